import DataLoader from 'dataloader';
import { groupBy } from '../database/keys';
import { type Runner, query, statement } from '../database/statements';
import { type AuditAction, AuditEventEntity } from './audit-event.entity';

/** What one change looked like: never a key (connections appear by provider and key hint). */
export interface AuditChange {
  organizationId: string;
  action: AuditAction;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

/** One page of one organization's events. */
export interface PageKey {
  organizationId: string;
  first: number;
  /** Events strictly older than this position; null for the newest. */
  beforePosition: string | null;
}

export interface AuditPage {
  events: AuditEventEntity[];
  hasNextPage: boolean;
}

interface AuditEventRow {
  id: string;
  position: string;
  organization_id: string;
  actor_id: string;
  action: AuditAction;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  at: Date;
}

function toAuditEvent(row: AuditEventRow): AuditEventEntity {
  return Object.assign(new AuditEventEntity(), {
    id: row.id,
    position: String(row.position),
    organizationId: row.organization_id,
    actorId: row.actor_id,
    action: row.action,
    before: row.before,
    after: row.after,
    at: row.at,
  });
}

const RECORD_EVENT = statement(
  'audit_record_event',
  'INSERT INTO audit_event (organization_id, actor_id, action, before, after) VALUES ($1, $2, $3, $4, $5)',
);

/** The pages of any number of organizations: `$1` organizations, `$2` positions to start below (null: newest), `$3` page sizes. */
const AUDIT_PAGES = statement(
  'audit_pages',
  `SELECT page.request, e.id, e.position, e.organization_id, e.actor_id, e.action, e.before, e.after, e.at
FROM unnest($1::uuid[], $2::bigint[], $3::int[]) WITH ORDINALITY AS page (organization_id, before_position, size, request)
CROSS JOIN LATERAL (
  SELECT * FROM audit_event
  WHERE organization_id = page.organization_id
    AND (page.before_position IS NULL OR position < page.before_position)
  ORDER BY position DESC
  LIMIT page.size
) e
ORDER BY page.request, e.position DESC`,
);

/** The audit log's statements: events are written with the change they record, and never updated or deleted. */
export class AuditRepository {
  constructor(private readonly db: Runner) {}

  /** Writes the event of a change; called with the change's own transaction. */
  async record(actorId: string, change: AuditChange): Promise<void> {
    await query(this.db, RECORD_EVENT, [change.organizationId, actorId, change.action, change.before ?? null, change.after ?? null]);
  }

  /** Batch function: the pages asked for, in their order, in one statement. */
  async pages(keys: readonly PageKey[]): Promise<AuditPage[]> {
    // One row more than asked tells whether there is a next page.
    const rows = await query<AuditEventRow & { request: string }>(this.db, AUDIT_PAGES, [
      keys.map((key) => key.organizationId),
      keys.map((key) => key.beforePosition),
      keys.map((key) => key.first + 1),
    ]);
    const byRequest = groupBy(rows, (row) => String(row.request));
    return keys.map((key, index) => {
      const events = (byRequest.get(String(index + 1)) ?? []).map(toAuditEvent);
      return { events: events.slice(0, key.first), hasNextPage: events.length > key.first };
    });
  }
}

export type AuditLoaders = ReturnType<typeof createAuditLoaders>;

/** Per-request loader of audit pages: the pages of any number of organizations in one statement. */
export function createAuditLoaders(audit: AuditRepository) {
  return {
    pages: new DataLoader<PageKey, AuditPage, string>((keys) => audit.pages(keys), {
      cacheKeyFn: (key) => `${key.organizationId}|${key.first}|${key.beforePosition ?? ''}`,
    }),
  };
}
