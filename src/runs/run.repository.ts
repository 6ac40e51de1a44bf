import DataLoader from 'dataloader';
import type { ModelCapability, Provider } from '../catalog/catalog';
import type { Billing } from '../catalog/model-options';
import { all, byIdKeys, groupBy, normalizeId, one } from '../database/keys';
import { type Runner, query, statement } from '../database/statements';
import { NO_CREDENTIALS } from './attempt-reasons';
import { type AttemptOutcome, RunAttemptEntity, RunEntity, type RunOutputValue, type RunStatus, type StoredProviderError } from './run.entity';

/** One organization's usage in [from, to). */
export interface UsageKey {
  organizationId: string;
  from: Date;
  to: Date;
}

/** Summed attempts of one provider, model and billing. */
export interface UsageSum {
  provider: Provider;
  modelId: string;
  billing: Billing;
  runs: number;
  inputTokens: number;
  outputTokens: number;
}

interface RunRow {
  id: string;
  organization_id: string;
  agent_id: string;
  requested_by: string;
  status: RunStatus;
  served_by_model_id: string | null;
  served_by_billing: Billing | null;
  served_by_connection_owner_id: string | null;
  output: RunOutputValue | null;
  degraded_features: ModelCapability[];
  error: StoredProviderError | null;
  created_at: Date;
}

interface AttemptRow {
  run_id: string;
  position: number;
  organization_id: string;
  model_id: string;
  provider: Provider;
  billing: Billing;
  connection_owner_id: string | null;
  outcome: AttemptOutcome;
  reason: string | null;
  http_status: number | null;
  latency_ms: number;
  input_tokens: number | null;
  output_tokens: number | null;
  error: StoredProviderError | null;
  started_at: Date;
}

function toRun(row: RunRow): RunEntity {
  return Object.assign(new RunEntity(), {
    id: row.id,
    organizationId: row.organization_id,
    agentId: row.agent_id,
    requestedBy: row.requested_by,
    status: row.status,
    servedByModelId: row.served_by_model_id,
    servedByBilling: row.served_by_billing,
    servedByConnectionOwnerId: row.served_by_connection_owner_id,
    output: row.output,
    degradedFeatures: row.degraded_features,
    error: row.error,
    createdAt: row.created_at,
  });
}

function toAttempt(row: AttemptRow): RunAttemptEntity {
  return Object.assign(new RunAttemptEntity(), {
    runId: row.run_id,
    position: row.position,
    organizationId: row.organization_id,
    modelId: row.model_id,
    provider: row.provider,
    billing: row.billing,
    connectionOwnerId: row.connection_owner_id,
    outcome: row.outcome,
    reason: row.reason,
    httpStatus: row.http_status,
    latencyMs: row.latency_ms,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    error: row.error,
    startedAt: row.started_at,
  });
}

const RUNS_BY_ID = statement(
  'runs_by_id',
  `SELECT r.id, r.organization_id, r.agent_id, r.requested_by, r.status, r.served_by_model_id, r.served_by_billing,
       r.served_by_connection_owner_id, r.output, r.degraded_features::text[] AS degraded_features, r.error, r.created_at
FROM run r WHERE r.id = ANY($1::uuid[])`,
);

const ATTEMPTS_OF_RUNS = statement(
  'run_attempts_of_runs',
  `SELECT a.run_id, a.position, a.organization_id, a.model_id, a.provider, a.billing, a.connection_owner_id, a.outcome, a.reason,
       a.http_status, a.latency_ms, a.input_tokens, a.output_tokens, a.error, a.started_at
FROM run_attempt a WHERE a.run_id = ANY($1::uuid[]) ORDER BY a.run_id, a.position`,
);

/**
 * Usage for any number of (organization, period) pairs in one statement, on the
 * (organization_id, started_at) index. Steps that sent nothing (skipped, or without a key) are
 * not usage; a call aborted because its caller went away or the service stopped (FAILED,
 * CANCELLED or INTERRUPTED) was sent and may be billed, so it counts, with no tokens known.
 */
const USAGE = statement(
  'run_usage',
  `SELECT q.request, a.provider, a.model_id, a.billing,
       count(DISTINCT a.run_id)::int AS runs,
       coalesce(sum(a.input_tokens), 0)::bigint AS input_tokens,
       coalesce(sum(a.output_tokens), 0)::bigint AS output_tokens
FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS q (organization_id, from_at, to_at, request)
JOIN run_attempt a ON a.organization_id = q.organization_id AND a.started_at >= q.from_at AND a.started_at < q.to_at
WHERE a.outcome <> 'SKIPPED' AND a.reason IS DISTINCT FROM '${NO_CREDENTIALS}'
GROUP BY q.request, a.provider, a.model_id, a.billing
ORDER BY q.request, a.provider, a.model_id, a.billing`,
);

const INSERT_RUN = statement(
  'run_insert',
  `INSERT INTO run (id, organization_id, agent_id, requested_by, status, served_by_model_id, served_by_billing,
                 served_by_connection_owner_id, output, degraded_features, error, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::model_capability[], $11, $12)`,
);

/** A run's attempts (`$3`, a JSON array of them in their order), numbered from 1. */
const INSERT_ATTEMPTS = statement(
  'run_insert_attempts',
  `INSERT INTO run_attempt (run_id, position, organization_id, model_id, provider, billing, connection_owner_id, outcome, reason,
                         http_status, latency_ms, input_tokens, output_tokens, error, started_at)
SELECT $1, a.position, $2, a.model_id, a.provider, a.billing, a.connection_owner_id, a.outcome, a.reason,
       a.http_status, a.latency_ms, a.input_tokens, a.output_tokens, a.error, a.started_at
FROM jsonb_to_recordset($3::jsonb) AS a (
  position smallint, model_id varchar, provider provider, billing billing, connection_owner_id uuid, outcome attempt_outcome,
  reason varchar, http_status smallint, latency_ms int, input_tokens int, output_tokens int, error jsonb, started_at timestamptz
)`,
);

/** Runs and their attempts: written once, together, never changed. */
export class RunRepository {
  constructor(private readonly db: Runner) {}

  /** Batch function: runs by id; null for ids without one. */
  byIds(keys: readonly string[]): Promise<(RunEntity | null)[]> {
    return byIdKeys(keys, async (ids) => (await query<RunRow>(this.db, RUNS_BY_ID, [ids])).map(toRun), (run) => run.id, one);
  }

  /** Batch function: each run's attempts, in the order they were made. */
  attemptsOf(keys: readonly string[]): Promise<RunAttemptEntity[][]> {
    return byIdKeys(keys, async (ids) => (await query<AttemptRow>(this.db, ATTEMPTS_OF_RUNS, [ids])).map(toAttempt), (attempt) => attempt.runId, all);
  }

  /** Batch function: each (organization, period)'s usage, by provider, model and billing. */
  async usage(keys: readonly UsageKey[]): Promise<UsageSum[][]> {
    const rows = await query<{ request: string; provider: Provider; model_id: string; billing: Billing; runs: number; input_tokens: string; output_tokens: string }>(
      this.db,
      USAGE,
      [keys.map((key) => key.organizationId), keys.map((key) => key.from), keys.map((key) => key.to)],
    );
    const byRequest = groupBy(rows, (row) => String(row.request));
    return keys.map((_key, index) =>
      (byRequest.get(String(index + 1)) ?? []).map((row) => ({
        provider: row.provider,
        modelId: row.model_id,
        billing: row.billing,
        runs: row.runs,
        inputTokens: Number(row.input_tokens),
        outputTokens: Number(row.output_tokens),
      })),
    );
  }

  /** Writes a run and its attempts (numbered in their order); two statements. */
  async insert(run: RunEntity, attempts: readonly RunAttemptEntity[]): Promise<void> {
    await query(this.db, INSERT_RUN, [
      run.id,
      run.organizationId,
      run.agentId,
      run.requestedBy,
      run.status,
      run.servedByModelId,
      run.servedByBilling,
      run.servedByConnectionOwnerId,
      run.output,
      run.degradedFeatures,
      run.error,
      run.createdAt,
    ]);
    const rows = attempts.map((attempt) => ({
      position: attempt.position,
      model_id: attempt.modelId,
      provider: attempt.provider,
      billing: attempt.billing,
      connection_owner_id: attempt.connectionOwnerId,
      outcome: attempt.outcome,
      reason: attempt.reason,
      http_status: attempt.httpStatus,
      latency_ms: attempt.latencyMs,
      input_tokens: attempt.inputTokens,
      output_tokens: attempt.outputTokens,
      error: attempt.error,
      started_at: attempt.startedAt,
    }));
    await query(this.db, INSERT_ATTEMPTS, [run.id, run.organizationId, JSON.stringify(rows)]);
  }
}

export interface RunLoaders {
  byId: DataLoader<string, RunEntity | null>;
  /** A run's attempts, in the order they were made. */
  attempts: DataLoader<string, RunAttemptEntity[]>;
  usage: DataLoader<UsageKey, UsageSum[], string>;
}

export function createRunLoaders(runs: RunRepository): RunLoaders {
  const options = { cacheKeyFn: normalizeId };
  return {
    byId: new DataLoader((keys) => runs.byIds(keys), options),
    attempts: new DataLoader((keys) => runs.attemptsOf(keys), options),
    usage: new DataLoader<UsageKey, UsageSum[], string>((keys) => runs.usage(keys), {
      cacheKeyFn: (key) => `${normalizeId(key.organizationId)}|${key.from.toISOString()}|${key.to.toISOString()}`,
    }),
  };
}
