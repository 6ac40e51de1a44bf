/**
 * Prometheus metrics (DESIGN.md section 11), served as text at /metrics. Every label value comes
 * from a closed set: the schema's and the catalog's names, the timeline's outcomes and reasons,
 * error codes, and at most MAX_OPERATION_NAMES operation names; never an organization, user,
 * agent, run or request id, a key or a prompt. A value outside its set is counted as `other`.
 */
import type { Pool } from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Billing } from '../catalog/model-options';
import { MODEL_CATALOG, Provider } from '../catalog/catalog';
import { ErrorCode } from '../errors';

export const OTHER = 'other';
/** Operation names told apart; later ones count as `other`, so a client cannot grow the series without end. */
export const MAX_OPERATION_NAMES = 100;
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
/** A reason or a code as the service names them: upper-case words. */
const CONSTANT_NAME = /^[A-Z][A-Z0-9_]{0,47}$/;

const PROVIDERS = new Set<string>(Object.values(Provider));
const BILLINGS = new Set<string>(Object.values(Billing));
const MODELS = new Set(MODEL_CATALOG.map((model) => model.id));
const OUTCOMES = new Set(['SUCCEEDED', 'FAILED', 'SKIPPED']);
const OPERATION_TYPES = new Set(['query', 'mutation', 'subscription']);
/** The codes a response may carry: the service's own and those of graphql-js, Apollo Server and graphql-armor. */
const ERROR_CODES = new Set<string>([
  ...Object.values(ErrorCode),
  'INTERNAL_SERVER_ERROR',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

const within = (set: Set<string>, value: string | null | undefined) => (value && set.has(value) ? value : OTHER);

/** What the timeline records of one attempt (a row of run_attempt). */
export interface AttemptFacts {
  provider: string;
  modelId: string;
  billing: string;
  outcome: string;
  reason: string | null;
}

/** A cooldown as the run loop wrote it: never the account's id, only whether it is the platform's. */
export interface CooldownFacts {
  provider: string;
  modelId: string;
  platform: boolean;
  reason: string;
  until: Date;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly operationNames = new Set<string>();
  private readonly pools = new Set<Pool>();

  private readonly requests = new Counter({
    name: 'byom_graphql_requests_total',
    help: 'GraphQL requests answered, by operation name and type',
    labelNames: ['operation_name', 'operation_type'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'byom_graphql_request_duration_seconds',
    help: 'Time from the start of a GraphQL request to its response, by operation name and type',
    labelNames: ['operation_name', 'operation_type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'byom_errors_total',
    help: 'Errors answered to clients, by code (one GraphQL response may carry several)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  private readonly attempts = new Counter({
    name: 'byom_provider_attempts_total',
    help: "Attempts of agent runs as the run timeline records them (a SKIPPED row is an attempt with that outcome); reason is 'none' when the row has none",
    labelNames: ['provider', 'model', 'billing', 'outcome', 'reason'] as const,
    registers: [this.registry],
  });
  private readonly failovers = new Counter({
    name: 'byom_run_failovers_total',
    help: 'Runs that went on to their next candidate after a failed attempt, by the reason of that failure (a run where both fail counts)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly statusChanges = new Counter({
    name: 'byom_connection_status_changes_total',
    help: 'Provider connections whose status changed, by provider and the status they took',
    labelNames: ['provider', 'status'] as const,
    registers: [this.registry],
  });
  private readonly keyChecks = new Counter({
    name: 'byom_key_checks_total',
    help: 'Keys checked with their provider before they are stored, by provider and outcome',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly cooldowns = new Counter({
    name: 'byom_cooldowns_total',
    help: "Retriable failures that cooled a model on an account (DESIGN.md section 7), by provider, model, account ('platform' for the platform's key, 'connection' for a BYOM one) and the attempt reason",
    labelNames: ['provider', 'model', 'account', 'reason'] as const,
    registers: [this.registry],
  });
  private readonly platformCooldownEnds = new Gauge({
    name: 'byom_platform_cooldown_end_seconds',
    help: "When the platform account's cooldown of a model ends, in Unix seconds, as this instance last cooled or cleared it (0: cleared); the cooldown itself is shared by every instance",
    labelNames: ['provider', 'model'] as const,
    registers: [this.registry],
  });

  constructor() {
    // The process defaults: CPU, memory, heap, handles, GC and event-loop delay (nodejs_eventloop_lag_*).
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    const pools = this.pools;
    const poolGauge = (state: 'total' | 'idle' | 'waiting', help: string, count: (pool: Pool) => number) =>
      new Gauge({
        name: `byom_db_pool_${state}_connections`,
        help,
        registers: [this.registry],
        collect() {
          let sum = 0;
          for (const pool of pools) sum += count(pool);
          this.set(sum);
        },
      });
    poolGauge('total', 'Connections the database pool holds, busy or idle', (pool) => pool.totalCount);
    poolGauge('idle', 'Connections of the database pool that are idle', (pool) => pool.idleCount);
    poolGauge('waiting', 'Requests waiting for a connection of the database pool', (pool) => pool.waitingCount);
  }

  /** The pool's gauges follow `pool` until the returned function is called. */
  watchPool(pool: Pool): () => void {
    this.pools.add(pool);
    return () => this.pools.delete(pool);
  }

  /** A GraphQL request answered: its operation (undefined when none was resolved) and the codes of its errors. */
  request(operationName: string | null | undefined, operationType: string | undefined, seconds: number, errorCodes: readonly unknown[]): void {
    const labels = { operation_name: this.operationLabel(operationName), operation_type: operationType && OPERATION_TYPES.has(operationType) ? operationType : 'none' };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
    for (const code of errorCodes) this.error(code);
  }

  /** An error answered to a client, GraphQL or not. */
  error(code: unknown): void {
    this.errors.inc({ code: typeof code === 'string' ? within(ERROR_CODES, code) : OTHER });
  }

  /** One row of a run's timeline; `failover` when the run goes on to its next candidate after this failure. */
  attempt(attempt: AttemptFacts, failover: boolean): void {
    const reason = attempt.reason === null ? 'none' : CONSTANT_NAME.test(attempt.reason) ? attempt.reason : OTHER;
    this.attempts.inc({
      provider: within(PROVIDERS, attempt.provider),
      model: within(MODELS, attempt.modelId),
      billing: within(BILLINGS, attempt.billing),
      outcome: within(OUTCOMES, attempt.outcome),
      reason,
    });
    if (failover) this.failovers.inc({ reason });
  }

  connectionStatusChanged(provider: string, status: string): void {
    this.statusChanges.inc({ provider: within(PROVIDERS, provider), status: CONSTANT_NAME.test(status) ? status : OTHER });
  }

  /** A model cooled on an account until `until` (an end already later kept), for `reason`. */
  cooled(cooldown: CooldownFacts): void {
    const provider = within(PROVIDERS, cooldown.provider);
    const model = within(MODELS, cooldown.modelId);
    const reason = CONSTANT_NAME.test(cooldown.reason) ? cooldown.reason : OTHER;
    this.cooldowns.inc({ provider, model, account: cooldown.platform ? 'platform' : 'connection', reason });
    if (cooldown.platform) this.platformCooldownEnds.set({ provider, model }, cooldown.until.getTime() / 1000);
  }

  /** A cooling model served again on an account: its cooldown is gone. */
  cooldownCleared(cooldown: Pick<CooldownFacts, 'provider' | 'modelId' | 'platform'>): void {
    if (cooldown.platform) this.platformCooldownEnds.set({ provider: within(PROVIDERS, cooldown.provider), model: within(MODELS, cooldown.modelId) }, 0);
  }

  keyChecked(provider: string, outcome: 'ACCEPTED' | 'REJECTED' | 'UNREACHABLE'): void {
    this.keyChecks.inc({ provider: within(PROVIDERS, provider), outcome });
  }

  /** The Prometheus text exposition of every series. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private operationLabel(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    if (!GRAPHQL_NAME.test(name)) return OTHER;
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES) return OTHER;
    this.operationNames.add(name);
    return name;
  }
}

let shared: Metrics | undefined;

/** The process's metrics (made on first use: one registry per process, as Prometheus scrapes it). */
export function metrics(): Metrics {
  shared ??= new Metrics();
  return shared;
}
