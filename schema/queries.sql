-- Every SQL statement of the repositories (src/*/*.repository.ts), by name: written by
-- `npm run schema:emit`; test/queries.test.ts fails when the code's statements differ from this file.
-- Statements marked "prepared" are sent as named prepared statements.

-- agent_insert
INSERT INTO agent (organization_id, name, model_id, billing) VALUES ($1, $2, $3, $4) RETURNING id, organization_id, name, model_id, billing, created_at, updated_at;

-- agent_lock
SELECT a.id, a.organization_id, a.name, a.model_id, a.billing, a.created_at, a.updated_at FROM agent a WHERE a.id = $1 FOR UPDATE;

-- agent_set_pin
UPDATE agent SET model_id = $2, billing = $3, updated_at = now() WHERE id = $1 RETURNING id, organization_id, name, model_id, billing, created_at, updated_at;

-- agents_by_id
SELECT a.id, a.organization_id, a.name, a.model_id, a.billing, a.created_at, a.updated_at FROM agent a WHERE a.id = ANY($1::uuid[]);

-- agents_of_organizations
SELECT a.id, a.organization_id, a.name, a.model_id, a.billing, a.created_at, a.updated_at FROM agent a WHERE a.organization_id = ANY($1::uuid[]) ORDER BY a.created_at, a.id;

-- audit_pages
SELECT page.request, e.id, e.position, e.organization_id, e.actor_id, e.action, e.before, e.after, e.at
FROM unnest($1::uuid[], $2::bigint[], $3::int[]) WITH ORDINALITY AS page (organization_id, before_position, size, request)
CROSS JOIN LATERAL (
  SELECT * FROM audit_event
  WHERE organization_id = page.organization_id
    AND (page.before_position IS NULL OR position < page.before_position)
  ORDER BY position DESC
  LIMIT page.size
) e
ORDER BY page.request, e.position DESC;

-- audit_record_event
INSERT INTO audit_event (organization_id, actor_id, action, before, after) VALUES ($1, $2, $3, $4, $5);

-- byom_memberships_of_user (prepared)
SELECT m.role, m.created_at AS m_created_at, m.updated_at AS m_updated_at, o.id, o.name, o.parent_id, o.created_at, o.updated_at
FROM membership m JOIN organization o ON o.id = m.organization_id
WHERE m.user_id = $1;

-- byom_organizations_by_id (prepared)
SELECT o.id, o.name, o.parent_id, o.created_at, o.updated_at FROM organization o WHERE o.id = ANY($1::uuid[]);

-- byom_walk (prepared)
WITH RECURSIVE chain (start_id, id, parent_id, depth, name, created_at, updated_at) AS (
  SELECT o.id, o.id, o.parent_id, 0, o.name::text, o.created_at, o.updated_at FROM organization o WHERE o.id = ANY($1::uuid[])
  UNION ALL
  SELECT chain.start_id, p.id, p.parent_id, chain.depth + 1, NULL, NULL, NULL
  FROM chain JOIN organization p ON p.id = chain.parent_id
  WHERE chain.depth < $2
)
SELECT chain.start_id, chain.id, chain.depth,
       s.primary_model_id, s.fallback_model_id, s.exclusive, s.offer_to_sub_organizations,
       CASE WHEN chain.depth = 0
         THEN ARRAY(SELECT c.provider::text FROM provider_connection c WHERE c.organization_id = chain.id ORDER BY c.provider)
       END AS providers,
       chain.parent_id, chain.name, chain.created_at, chain.updated_at, m.role AS caller_role
FROM chain LEFT JOIN model_settings s ON s.organization_id = chain.id LEFT JOIN membership m ON chain.depth = 0 AND m.organization_id = chain.id AND m.user_id = $3::varchar
WHERE chain.depth = 0 OR s.organization_id IS NOT NULL
ORDER BY chain.start_id, chain.depth;

-- byom_walk_of_few (prepared)
WITH RECURSIVE chain (start_id, id, parent_id, depth, name, created_at, updated_at) AS (
  SELECT o.id, o.id, o.parent_id, 0, o.name::text, o.created_at, o.updated_at
  FROM unnest((SELECT $1::uuid[])) AS start (id) JOIN organization o ON o.id = start.id
  UNION ALL
  SELECT chain.start_id, p.id, p.parent_id, chain.depth + 1, NULL, NULL, NULL
  FROM chain CROSS JOIN LATERAL (SELECT p.id, p.parent_id FROM organization p WHERE p.id = chain.parent_id LIMIT 1) p
  WHERE chain.depth < $2
)
SELECT chain.start_id, chain.id, chain.depth,
       s.primary_model_id, s.fallback_model_id, s.exclusive, s.offer_to_sub_organizations,
       CASE WHEN chain.depth = 0
         THEN ARRAY(SELECT c.provider::text FROM provider_connection c WHERE c.organization_id = chain.id ORDER BY c.provider)
       END AS providers,
       chain.parent_id, chain.name, chain.created_at, chain.updated_at, m.role AS caller_role
FROM chain LEFT JOIN LATERAL (
  SELECT s.organization_id, s.primary_model_id, s.fallback_model_id, s.exclusive, s.offer_to_sub_organizations
  FROM model_settings s WHERE s.organization_id = chain.id LIMIT 1
) s ON true LEFT JOIN LATERAL (
  SELECT m.role FROM membership m WHERE chain.depth = 0 AND m.organization_id = chain.id AND m.user_id = $3::varchar LIMIT 1
) m ON true
WHERE chain.depth = 0 OR s.organization_id IS NOT NULL
ORDER BY chain.start_id, chain.depth;

-- connection_delete
DELETE FROM provider_connection WHERE id = $1;

-- connection_insert
INSERT INTO provider_connection (id, organization_id, provider, encrypted_key, key_hint, status, last_verified_at)
VALUES ($1, $2, $3, $4, $5, $6, now())
ON CONFLICT (organization_id, provider) DO NOTHING
RETURNING id, organization_id, provider, encrypted_key, key_hint, status, rotated_at, last_verified_at, last_used_at, created_at, updated_at;

-- connection_key_routes (prepared)
SELECT c.id AS connection_id, c.organization_id, c.provider::text AS provider, c.encrypted_key, c.status::text AS status,
       (c.last_used_at IS NULL OR c.last_used_at < now() - interval '1 minute') AS use_stale,
       k.account, k.model_id, k.until, k.reason, k.failures
FROM provider_connection c
LEFT JOIN model_cooldown k ON k.account = c.id::text AND k.model_id = ANY($2::varchar[])
WHERE c.organization_id = ANY($1::uuid[])
UNION ALL
SELECT NULL, NULL, k.provider::text, NULL, NULL, NULL, k.account, k.model_id, k.until, k.reason, k.failures
FROM model_cooldown k
WHERE k.account = ANY($3::varchar[]) AND k.model_id = ANY($2::varchar[]);

-- connection_lock
SELECT c.id, c.organization_id, c.provider, c.encrypted_key, c.key_hint, c.status, c.rotated_at, c.last_verified_at, c.last_used_at, c.created_at, c.updated_at FROM provider_connection c WHERE c.organization_id = $1 AND c.provider = $2 FOR UPDATE;

-- connection_lock_connected_providers
SELECT provider FROM provider_connection WHERE organization_id = $1 FOR SHARE;

-- connection_lock_stale_keys
SELECT id, organization_id, provider, encrypted_key FROM provider_connection
WHERE id > $1 AND NOT starts_with(encrypted_key, $2)
ORDER BY id LIMIT $3
FOR UPDATE;

-- connection_mark_key_status
UPDATE provider_connection
SET status = $2, last_verified_at = CASE WHEN $2 = 'VERIFIED' THEN now() ELSE last_verified_at END, updated_at = now()
WHERE id = $1 AND encrypted_key = $3 AND status <> $2
RETURNING organization_id;

-- connection_note_key_use
UPDATE provider_connection SET last_used_at = now()
WHERE id = ANY($1::uuid[]) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');

-- connection_record_key_check
UPDATE provider_connection
SET status = $2::connection_status, last_verified_at = CASE WHEN $2::connection_status = 'VERIFIED' THEN now() ELSE last_verified_at END, updated_at = now()
WHERE id = $1 AND encrypted_key = $3
RETURNING id, organization_id, provider, encrypted_key, key_hint, status, rotated_at, last_verified_at, last_used_at, created_at, updated_at;

-- connection_replace_keys
UPDATE provider_connection c SET encrypted_key = u.encrypted_key
FROM unnest($1::uuid[], $2::text[]) AS u (id, encrypted_key)
WHERE c.id = u.id;

-- connection_rotate_key
UPDATE provider_connection
SET encrypted_key = $2, key_hint = $3, status = $4, rotated_at = now(), last_verified_at = now(), updated_at = now()
WHERE id = $1
RETURNING id, organization_id, provider, encrypted_key, key_hint, status, rotated_at, last_verified_at, last_used_at, created_at, updated_at;

-- connection_stored_keys
SELECT id, organization_id, provider, encrypted_key, status FROM provider_connection
WHERE id > $1
ORDER BY id LIMIT $2;

-- connections_of_organizations
SELECT c.id, c.organization_id, c.provider, c.encrypted_key, c.key_hint, c.status, c.rotated_at, c.last_verified_at, c.last_used_at, c.created_at, c.updated_at FROM provider_connection c WHERE c.organization_id = ANY($1::uuid[]) ORDER BY c.provider;

-- cooldown_clear
DELETE FROM model_cooldown k USING unnest($1::varchar[], $2::varchar[]) AS p (account, model_id)
WHERE k.account = p.account AND k.model_id = p.model_id;

-- cooldown_clear_connection
DELETE FROM model_cooldown WHERE connection_id = $1;

-- cooldown_upsert
INSERT INTO model_cooldown AS c (account, connection_id, provider, model_id, until, reason, failures, updated_at)
SELECT $1, $2::uuid, $3::provider, $4, $5, $6, 1, now()
WHERE $2::uuid IS NULL OR EXISTS (SELECT 1 FROM provider_connection p WHERE p.id = $2::uuid AND p.encrypted_key = $7)
ON CONFLICT (account, model_id) DO UPDATE SET
  failures = c.failures + 1,
  until = GREATEST(c.until, EXCLUDED.until),
  reason = CASE WHEN EXCLUDED.until > c.until THEN EXCLUDED.reason ELSE c.reason END,
  updated_at = now()
RETURNING until, reason, failures;

-- cooldowns_of_connections
SELECT account, connection_id AS "connectionId", provider::text AS provider, model_id AS "modelId", until, reason, failures FROM model_cooldown WHERE connection_id = ANY($1::uuid[]) ORDER BY connection_id, model_id;

-- cooldowns_of_platform
SELECT account, connection_id AS "connectionId", provider::text AS provider, model_id AS "modelId", until, reason, failures FROM model_cooldown WHERE connection_id IS NULL AND until > $1 ORDER BY account, model_id;

-- membership_remove
DELETE FROM membership WHERE organization_id = $1 AND user_id = $2 RETURNING role;

-- membership_set
WITH previous AS (SELECT role FROM membership WHERE organization_id = $1 AND user_id = $2)
INSERT INTO membership (organization_id, user_id, role) VALUES ($1, $2, $3)
ON CONFLICT (organization_id, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()
RETURNING organization_id, user_id, role, created_at, updated_at, (SELECT role FROM previous) AS previous_role;

-- model_settings_delete
WITH gone AS (DELETE FROM model_settings WHERE organization_id = $1 RETURNING organization_id, version)
UPDATE organization o SET last_settings_version = GREATEST(o.last_settings_version, gone.version) FROM gone WHERE o.id = gone.organization_id;

-- model_settings_inheriting_descendants
WITH RECURSIVE below (id, name, depth) AS (
  SELECT o.id, o.name, 1 FROM organization o WHERE o.parent_id = $1
  UNION ALL
  SELECT child.id, child.name, below.depth + 1
  FROM below JOIN organization child ON child.parent_id = below.id
  WHERE below.depth < $2
    AND NOT EXISTS (SELECT 1 FROM model_settings s WHERE s.organization_id = below.id AND s.offer_to_sub_organizations)
)
SELECT below.id, below.name, count(*) OVER ()::int AS total
FROM below
WHERE NOT EXISTS (SELECT 1 FROM model_settings s WHERE s.organization_id = below.id)
ORDER BY below.depth, below.name
LIMIT $3;

-- model_settings_insert
WITH issued AS (
  UPDATE organization SET last_settings_version = last_settings_version + 1 WHERE id = $1 RETURNING last_settings_version AS version
)
INSERT INTO model_settings (organization_id, primary_model_id, fallback_model_id, exclusive, offer_to_sub_organizations, updated_by, version)
SELECT $1::uuid, $2::varchar, $3::varchar, $4::boolean, $5::boolean, $6::varchar, issued.version FROM issued
ON CONFLICT DO NOTHING
RETURNING organization_id, primary_model_id, fallback_model_id, exclusive, offer_to_sub_organizations, version, updated_by, created_at, updated_at;

-- model_settings_lock
SELECT s.organization_id, s.primary_model_id, s.fallback_model_id, s.exclusive, s.offer_to_sub_organizations, s.version, s.updated_by, s.created_at, s.updated_at FROM model_settings s WHERE s.organization_id = $1 FOR UPDATE;

-- model_settings_of_organizations
SELECT s.organization_id, s.primary_model_id, s.fallback_model_id, s.exclusive, s.offer_to_sub_organizations, s.version, s.updated_by, s.created_at, s.updated_at FROM model_settings s WHERE s.organization_id = ANY($1::uuid[]);

-- model_settings_update
UPDATE model_settings
SET primary_model_id = $2, fallback_model_id = $3, exclusive = $4, offer_to_sub_organizations = $5, updated_by = $6,
    version = version + 1, updated_at = now()
WHERE organization_id = $1 AND version = $7
RETURNING organization_id, primary_model_id, fallback_model_id, exclusive, offer_to_sub_organizations, version, updated_by, created_at, updated_at;

-- organization_ancestor_ids
WITH RECURSIVE chain (start_id, id, parent_id, depth, name, created_at, updated_at) AS (
  SELECT o.id, o.id, o.parent_id, 0, o.name::text, o.created_at, o.updated_at FROM organization o WHERE o.id = ANY($1::uuid[])
  UNION ALL
  SELECT chain.start_id, p.id, p.parent_id, chain.depth + 1, NULL, NULL, NULL
  FROM chain JOIN organization p ON p.id = chain.parent_id
  WHERE chain.depth < $2
)
SELECT start_id, id FROM chain WHERE depth > 0 ORDER BY start_id, depth;

-- organization_children
SELECT o.id, o.name, o.parent_id, o.created_at, o.updated_at FROM organization o WHERE o.parent_id = ANY($1::uuid[]) ORDER BY o.name, o.id;

-- organization_insert
INSERT INTO organization (name, parent_id) VALUES ($1, $2) RETURNING id, name, parent_id, created_at, updated_at;

-- organization_lock_tree
SELECT pg_advisory_xact_lock($1);

-- organization_members
SELECT m.organization_id, m.user_id, m.role, m.created_at, m.updated_at FROM membership m WHERE m.organization_id = ANY($1::uuid[]) ORDER BY m.user_id;

-- organization_move
UPDATE organization SET parent_id = $2, updated_at = now() WHERE id = $1 RETURNING id, name, parent_id, created_at, updated_at;

-- organization_page
SELECT o.id, o.name, o.parent_id, o.created_at, o.updated_at, o.created_at::text AS created_at_text
FROM organization o
WHERE ($1::text IS NULL OR o.name ILIKE $1)
  AND ($2::timestamptz IS NULL OR (o.created_at, o.id) < ($2::timestamptz, $3::uuid))
ORDER BY o.created_at DESC, o.id DESC
LIMIT $4;

-- organization_page_of_member
SELECT o.id, o.name, o.parent_id, o.created_at, o.updated_at, o.created_at::text AS created_at_text
FROM membership m
JOIN organization o ON o.id = m.organization_id
WHERE m.user_id = $1
  AND ($2::text IS NULL OR o.name ILIKE $2)
  AND ($3::timestamptz IS NULL OR (o.created_at, o.id) < ($3::timestamptz, $4::uuid))
ORDER BY o.created_at DESC, o.id DESC
LIMIT $5;

-- organization_with_children
SELECT p.id FROM unnest($1::uuid[]) AS p (id)
WHERE EXISTS (SELECT 1 FROM organization child WHERE child.parent_id = p.id);

-- run_attempts_of_runs
SELECT a.run_id, a.position, a.organization_id, a.model_id, a.provider, a.billing, a.connection_owner_id, a.outcome, a.reason,
       a.http_status, a.latency_ms, a.input_tokens, a.output_tokens, a.error, a.started_at
FROM run_attempt a WHERE a.run_id = ANY($1::uuid[]) ORDER BY a.run_id, a.position;

-- run_insert
INSERT INTO run (id, organization_id, agent_id, requested_by, status, served_by_model_id, served_by_billing,
                 served_by_connection_owner_id, output, degraded_features, error, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::model_capability[], $11, $12);

-- run_insert_attempts
INSERT INTO run_attempt (run_id, position, organization_id, model_id, provider, billing, connection_owner_id, outcome, reason,
                         http_status, latency_ms, input_tokens, output_tokens, error, started_at)
SELECT $1, a.position, $2, a.model_id, a.provider, a.billing, a.connection_owner_id, a.outcome, a.reason,
       a.http_status, a.latency_ms, a.input_tokens, a.output_tokens, a.error, a.started_at
FROM jsonb_to_recordset($3::jsonb) AS a (
  position smallint, model_id varchar, provider provider, billing billing, connection_owner_id uuid, outcome attempt_outcome,
  reason varchar, http_status smallint, latency_ms int, input_tokens int, output_tokens int, error jsonb, started_at timestamptz
);

-- run_usage
SELECT q.request, a.provider, a.model_id, a.billing,
       count(DISTINCT a.run_id)::int AS runs,
       coalesce(sum(a.input_tokens), 0)::bigint AS input_tokens,
       coalesce(sum(a.output_tokens), 0)::bigint AS output_tokens
FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS q (organization_id, from_at, to_at, request)
JOIN run_attempt a ON a.organization_id = q.organization_id AND a.started_at >= q.from_at AND a.started_at < q.to_at
WHERE a.outcome <> 'SKIPPED' AND a.reason IS DISTINCT FROM 'NO_CREDENTIALS'
GROUP BY q.request, a.provider, a.model_id, a.billing
ORDER BY q.request, a.provider, a.model_id, a.billing;

-- runs_by_id
SELECT r.id, r.organization_id, r.agent_id, r.requested_by, r.status, r.served_by_model_id, r.served_by_billing,
       r.served_by_connection_owner_id, r.output, r.degraded_features::text[] AS degraded_features, r.error, r.created_at
FROM run r WHERE r.id = ANY($1::uuid[]);
