import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import type { Provider } from '../catalog/catalog';
import type { Billing } from '../catalog/model-options';
import { groupBy, normalizeId, uuidsOf } from '../database/keys';
import { RunAttemptEntity, RunEntity } from './run.entity';

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

export interface RunLoaders {
  byId: DataLoader<string, RunEntity | null>;
  /** A run's attempts, in the order they were made. */
  attempts: DataLoader<string, RunAttemptEntity[]>;
  usage: DataLoader<UsageKey, UsageSum[], string>;
}

/**
 * Usage for any number of (organization, period) pairs in one statement, on the
 * (organization_id, started_at) index. Steps that sent nothing (skipped, or without a key) are
 * not usage; a call aborted because its caller went away or the service stopped (FAILED,
 * CANCELLED or INTERRUPTED) was sent and may be billed, so it counts, with no tokens known.
 */
const USAGE_SQL = `SELECT q.request, a.provider, a.model_id, a.billing,
       count(DISTINCT a.run_id)::int AS runs,
       coalesce(sum(a.input_tokens), 0)::bigint AS input_tokens,
       coalesce(sum(a.output_tokens), 0)::bigint AS output_tokens
FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS q (organization_id, from_at, to_at, request)
JOIN run_attempt a ON a.organization_id = q.organization_id AND a.started_at >= q.from_at AND a.started_at < q.to_at
WHERE a.outcome <> 'SKIPPED' AND a.reason IS DISTINCT FROM 'NO_CREDENTIALS'
GROUP BY q.request, a.provider, a.model_id, a.billing
ORDER BY q.request, a.provider, a.model_id, a.billing`;

export function createRunLoaders(dataSource: DataSource): RunLoaders {
  const options = { cacheKeyFn: normalizeId };
  return {
    byId: new DataLoader(async (keys) => {
      const ids = uuidsOf(keys);
      const rows = ids.length ? await dataSource.getRepository(RunEntity).createQueryBuilder('r').where('r.id = ANY(:ids)', { ids }).getMany() : [];
      const byId = new Map(rows.map((row) => [row.id, row]));
      return keys.map((key) => byId.get(normalizeId(key)) ?? null);
    }, options),

    attempts: new DataLoader(async (keys) => {
      const ids = uuidsOf(keys);
      const rows = ids.length
        ? await dataSource.getRepository(RunAttemptEntity).createQueryBuilder('a').where('a.run_id = ANY(:ids)', { ids }).orderBy('a.run_id').addOrderBy('a.position').getMany()
        : [];
      const byRun = groupBy(rows, (row) => row.runId);
      return keys.map((key) => byRun.get(normalizeId(key)) ?? []);
    }, options),

    usage: new DataLoader<UsageKey, UsageSum[], string>(
      async (keys) => {
        const rows: { request: string; provider: Provider; model_id: string; billing: Billing; runs: number; input_tokens: string; output_tokens: string }[] =
          await dataSource.query(USAGE_SQL, [keys.map((key) => key.organizationId), keys.map((key) => key.from), keys.map((key) => key.to)]);
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
      },
      { cacheKeyFn: (key) => `${normalizeId(key.organizationId)}|${key.from.toISOString()}|${key.to.toISOString()}` },
    ),
  };
}
