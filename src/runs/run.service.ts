import { randomUUID } from 'node:crypto';
import type { AgentService } from '../agents/agent.service';
import { type Catalog, type CatalogModel, ModelCapability } from '../catalog/catalog';
import { findPin, type ModelOption } from '../catalog/model-options';
import { ConnectionStatus } from '../connections/provider-connection.entity';
import { carrierOf, type KeyRoute, type ProviderKeys } from '../connections/provider-keys';
import { invalidate } from '../invalidation';
import type { RequestContext } from '../context';
import { DomainError, ErrorCode, notFound } from '../errors';
import type { ModelSettingsService } from '../model-settings/model-settings.service';
import type { OrganizationEntity } from '../organizations/organization.entity';
import { sendChat, stoppedCall, type ChatRequest } from '../providers/provider-calls';
import { type CallStop, isCallStop, type ProviderEndpoints, rejectsKey } from '../providers/provider-clients';
import { recordAttempt, recordCooldown, recordCooldownCleared } from '../telemetry/telemetry';
import type { Clock } from '../clock';
import { type Cooldown, nextCooldown, orderByCooldowns } from './cooldowns';
import { classifyFailure, planRun, type RunStep } from './failover';
import { AttemptOutcome, RunAttemptEntity, RunEntity, RunStatus, type RunOutputValue, type StoredProviderError } from './run.entity';
import { checkedRequest } from './run-request';
import type { RunAgentInput, UsageRow } from './run.types';
import { checkUsagePeriod, priced } from './usage';
import { NO_CREDENTIALS } from './attempt-reasons';


type AttemptValues = Omit<RunAttemptEntity, 'runId' | 'position' | 'organizationId' | 'run'>;

/** How long a run's provider calls may take. */
export interface RunLimits {
  /** One call (PROVIDER_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
  /** The whole run, every call together (RUN_DEADLINE_MS). */
  runDeadlineMs: number;
}

/** What a step is carried out under: the run's stop (aborted with a CallStop) and the end of its deadline (performance.now() time). */
interface RunBounds {
  stop: AbortSignal;
  deadlineAt: number;
}

/** What one step of a run came to. */
interface StepResult {
  attempt: AttemptValues;
  /** The answer, when this step served the run. */
  output?: RunOutputValue;
  /** What the call says of the connection's key: refused, or accepted (`markStatus` writes an acceptance only when the route saw the key INVALID). */
  keyStatus?: ConnectionStatus;
  /** Whether a request went out with the route's key (whatever the answer). */
  sent?: boolean;
  /** The cooldown this failure is writing (never rejects). */
  cooling?: Promise<void>;
  /** Whether the run may go on to its next step. */
  goOn: boolean;
}

/** A step's row of the timeline, as `outcome` with `fields`; the rest empty. */
function timelineRow(step: RunStep): (outcome: AttemptOutcome, fields?: Partial<AttemptValues>) => AttemptValues {
  const startedAt = new Date();
  const { model, billing, connectionOwnerId } = step.option;
  return (outcome, fields = {}) => ({
    modelId: model.id,
    provider: model.provider,
    billing,
    connectionOwnerId,
    outcome,
    reason: null,
    httpStatus: null,
    latencyMs: 0,
    inputTokens: null,
    outputTokens: null,
    error: null,
    startedAt,
    ...fields,
  });
}

/**
 * A candidate passed over because it cools on its account while another candidate does not
 * (DESIGN.md section 7). No provider error: the run's error stays the last one a provider gave.
 */
function passOver(step: RunStep): StepResult {
  return { attempt: timelineRow(step)(AttemptOutcome.SKIPPED, { reason: 'COOLING_DOWN' }), goOn: true };
}

/**
 * Agent runs (DESIGN.md section 7): the pinned model through the connection that carries it,
 * failing over once to the organization's effective fallback on a retriable failure, every step
 * recorded. No transaction is open during a provider call; the run and its attempts are written
 * together once the outcome is known.
 *
 * A run has one deadline for all its calls (`runDeadlineMs`); the fallback gets what is left of
 * it. When the caller goes away (`ctx.signal`) or the service stops (`interrupt`), the call in
 * flight is aborted and the run is still written, FAILED, that attempt CANCELLED or INTERRUPTED,
 * with every attempt before it: no call the provider may bill is lost.
 */
export class RunService {
  /** Runs in flight, each with the controller that stops it. */
  private readonly inFlight = new Map<Promise<RunEntity>, AbortController>();
  private interrupted = false;

  constructor(
    private readonly agents: AgentService,
    private readonly settings: ModelSettingsService,
    private readonly keys: ProviderKeys,
    private readonly endpoints: ProviderEndpoints,
    private readonly limits: RunLimits,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
  ) {}

  /**
   * Stops every run in flight (the service is stopping): each aborts its provider call and is
   * written with that attempt INTERRUPTED; a run that starts later sends nothing. Answers how many
   * runs were in flight.
   */
  interrupt(): number {
    this.interrupted = true;
    for (const stop of this.inFlight.values()) stop.abort('INTERRUPTED' satisfies CallStop);
    return this.inFlight.size;
  }

  /** Resolves once no run is in flight: every run that began has been written (or failed to be). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled(this.inFlight.keys());
  }

  run(ctx: RequestContext, input: RunAgentInput): Promise<RunEntity> {
    const stop = new AbortController();
    const callerGone = () => stop.abort('CANCELLED' satisfies CallStop);
    if (this.interrupted) stop.abort('INTERRUPTED' satisfies CallStop);
    else if (ctx.signal?.aborted) callerGone();
    else ctx.signal?.addEventListener('abort', callerGone, { once: true });
    const bounds = { stop: stop.signal, deadlineAt: performance.now() + this.limits.runDeadlineMs };
    const running = this.runWithin(ctx, input, bounds);
    this.inFlight.set(running, stop);
    const done = () => {
      this.inFlight.delete(running);
      ctx.signal?.removeEventListener('abort', callerGone);
    };
    running.then(done, done);
    return running;
  }

  private async runWithin(ctx: RequestContext, input: RunAgentInput, bounds: RunBounds): Promise<RunEntity> {
    const request = checkedRequest(input);
    const createdAt = new Date();
    const agent = await this.agents.get(ctx, input.agentId);
    const effective = await this.settings.effective(ctx, agent.organizationId);
    const pin = findPin(effective.availableModels, agent);
    if (!pin) {
      throw new DomainError(
        ErrorCode.MODEL_NOT_AVAILABLE,
        `The agent is pinned to ${agent.modelId} (${agent.billing}), which the organization's settings no longer offer; pin it to an available model with setAgentModel`,
        { agentId: agent.id, model: agent.modelId, billing: agent.billing },
      );
    }
    const now = this.clock.now();
    const steps = planRun(pin, effective, { tools: request.tools.length > 0, retired: (option) => this.catalog.isRetired(option.model, now) });
    const candidates = steps.flatMap((step, index) => (step.action === 'SEND' ? [index] : []));
    if (candidates.length === 0) {
      const successor = this.catalog.successorOf(pin.model);
      throw new DomainError(
        ErrorCode.MODEL_NOT_AVAILABLE,
        `The agent is pinned to ${pin.model.id}, which its provider no longer serves, and the organization has no other model to fall over to; pin it to ${successor ? successor.id : 'another model'} with setAgentModel`,
        { agentId: agent.id, model: pin.model.id, successor: successor?.id ?? null },
      );
    }
    const routes = await this.keys.routes(ctx, steps.map((step) => carrierOf(step.option)));
    const first = candidates[0];
    const firstRoute = routes[first];
    if (firstRoute.kind === 'MISSING') {
      throw new DomainError(ErrorCode.MODEL_NOT_AVAILABLE, `${steps[first].option.model.id} cannot run: ${firstRoute.reason}`, {
        agentId: agent.id,
        model: steps[first].option.model.id,
      });
    }
    // Passed-over steps keep their places; the candidates take theirs in the order their cooldowns allow.
    const order = orderByCooldowns(
      candidates.map((index) => {
        const route = routes[index];
        return route.kind === 'MISSING' ? null : route.cooldown;
      }),
      now,
    );
    let taken = 0;
    const sequence = steps.map((step, index) => {
      if (step.action !== 'SEND') return { index, cooling: false };
      const { index: candidate, cooling } = order[taken++];
      return { index: candidates[candidate], cooling };
    });

    const attempts: AttemptValues[] = [];
    const statusChanges: { route: KeyRoute; status: ConnectionStatus }[] = [];
    const sent: KeyRoute[] = [];
    const coolingDown: Promise<void>[] = [];
    const recovered: { account: string; modelId: string; route: Exclude<KeyRoute, { kind: 'MISSING' }> }[] = [];
    let served: { step: Extract<RunStep, { action: 'SEND' }>; output: RunOutputValue } | null = null;
    for (const [position, { index, cooling }] of sequence.entries()) {
      const [step, route] = [steps[index], routes[index]];
      const result = cooling ? passOver(step) : await this.carryOut(ctx, step, route, request, bounds);
      attempts.push(result.attempt);
      recordAttempt(result.attempt, result.goOn && !result.output && !cooling && position + 1 < sequence.length);
      if (result.sent) sent.push(route);
      if (result.cooling) coolingDown.push(result.cooling);
      if (result.keyStatus) statusChanges.push({ route, status: result.keyStatus });
      if (result.output && step.action === 'SEND') {
        served = { step, output: result.output };
        if (route.kind !== 'MISSING' && route.cooldown) recovered.push({ account: route.account, modelId: step.option.model.id, route });
        break;
      }
      if (!result.goOn) break;
    }

    const degraded =
      request.tools.length > 0 && (served ? !served.step.withTools : steps.some((step) => step.action === 'SEND' && !step.withTools));
    const run = Object.assign(new RunEntity(), {
      id: randomUUID(),
      organizationId: agent.organizationId,
      agentId: agent.id,
      requestedBy: ctx.principal?.userId as string,
      status: served ? RunStatus.SUCCEEDED : RunStatus.FAILED,
      servedByModelId: served?.step.option.model.id ?? null,
      servedByBilling: served?.step.option.billing ?? null,
      servedByConnectionOwnerId: served?.step.option.connectionOwnerId ?? null,
      output: served?.output ?? null,
      degradedFeatures: degraded ? [ModelCapability.AGENT_TOOLS] : [],
      error: served ? null : (attempts.findLast((attempt) => attempt.error !== null)?.error ?? null),
      createdAt,
    });
    const stored = attempts.map((attempt, index) =>
      Object.assign(new RunAttemptEntity(), { ...attempt, runId: run.id, position: index + 1, organizationId: agent.organizationId }),
    );

    await Promise.all(coolingDown);
    const changed = await ctx.repos.transaction(async (tx) => {
      await tx.runs.insert(run, stored);
      await tx.connections.clearCooldowns(recovered);
      await this.keys.noteUse(tx, sent);
      const owners: string[] = [];
      for (const { route, status } of statusChanges) {
        const owner = await this.keys.markStatus(tx, route, status);
        if (owner) owners.push(owner);
      }
      return owners;
    });
    invalidate.keyStatus(ctx, changed);
    invalidate.runRecorded(ctx, run, stored);
    for (const { route, modelId } of recovered) recordCooldownCleared({ provider: route.provider, modelId, platform: route.kind === 'PLATFORM' });
    ctx.log.info(
      {
        runId: run.id,
        agentId: agent.id,
        status: run.status,
        attempts: stored.map(({ modelId, billing, outcome, reason, httpStatus, latencyMs }) => ({ modelId, billing, outcome, reason, httpStatus, latencyMs })),
        connectionStatusChanged: changed.length > 0 ? changed : undefined,
        cooldownsCleared: recovered.length > 0 ? recovered.map(({ modelId }) => modelId) : undefined,
      },
      'agent run',
    );
    return run;
  }

  /**
   * One step of a run: its row of the timeline, the answer when it served, what it says of the
   * connection's key, and whether the run may go on to its next step.
   */
  private async carryOut(
    ctx: RequestContext,
    step: RunStep,
    route: KeyRoute,
    request: Omit<ChatRequest, 'model'>,
    { stop, deadlineAt }: RunBounds,
  ): Promise<StepResult> {
    const { model } = step.option;
    const row = timelineRow(step);
    if (step.action === 'SKIP') return { attempt: row(AttemptOutcome.SKIPPED, { reason: step.reason }), goOn: true };
    const why: unknown = stop.reason;
    if (stop.aborted && isCallStop(why)) {
      const { kind, ...error } = stoppedCall(model.provider, why, { sent: false });
      return { attempt: row(AttemptOutcome.SKIPPED, { reason: kind, error: { ...error, httpStatus: null } }), goOn: false };
    }
    if (route.kind === 'MISSING') {
      const error = { provider: route.provider, httpStatus: null, type: 'no_credentials', message: `Not sent: ${route.reason}` };
      return { attempt: row(AttemptOutcome.FAILED, { reason: NO_CREDENTIALS, error }), goOn: true };
    }
    const started = performance.now();
    const left = Math.floor(deadlineAt - started);
    if (left <= 0) {
      const message = `Not sent: nothing was left of the run's deadline of ${this.limits.runDeadlineMs} ms`;
      const error = { provider: model.provider, httpStatus: null, type: 'deadline_exceeded', message };
      return { attempt: row(AttemptOutcome.SKIPPED, { reason: 'DEADLINE_EXCEEDED', error }), goOn: false };
    }
    const timeoutMs = Math.min(this.limits.requestTimeoutMs, left);
    const chat = { ...request, model: model.id, tools: step.withTools ? request.tools : [] };
    const result = await this.keys.withKey(route, (apiKey) => sendChat(model.provider, apiKey, this.endpoints, timeoutMs, chat, stop));
    const latencyMs = Math.round(performance.now() - started);
    if (result.ok) {
      const { text, toolCalls, inputTokens, outputTokens } = result.value;
      return {
        attempt: row(AttemptOutcome.SUCCEEDED, { httpStatus: 200, latencyMs, inputTokens, outputTokens }),
        output: { text, toolCalls },
        keyStatus: ConnectionStatus.VERIFIED,
        sent: true,
        goOn: false,
      };
    }
    const { failure } = result;
    const { reason, retriable } = classifyFailure(failure);
    // Sent now, not with the run (runs starting meanwhile, on any instance, already pass the pair
    // over), and beside the fallback's call rather than before it, which it would delay.
    const cooling = retriable ? this.coolDown(ctx, route, model.id, { reason, retryAfterMs: failure.retryAfterMs }) : undefined;
    const error: StoredProviderError = { provider: failure.provider, httpStatus: failure.httpStatus ?? null, type: failure.type, message: failure.message };
    return {
      attempt: row(AttemptOutcome.FAILED, { reason, httpStatus: error.httpStatus, latencyMs, error }),
      keyStatus: rejectsKey(failure) ? ConnectionStatus.INVALID : undefined,
      sent: true,
      cooling,
      goOn: retriable,
    };
  }

  /**
   * Cools a pair after a retriable failure (DESIGN.md section 7). A cooldown that cannot be
   * written leaves the run as it is: it is logged, and the next run tries the pair again.
   */
  private async coolDown(
    ctx: RequestContext,
    route: Exclude<KeyRoute, { kind: 'MISSING' }>,
    modelId: string,
    failure: { reason: string; retryAfterMs?: number },
  ): Promise<void> {
    const wanted = nextCooldown(route.cooldown, failure, this.clock.now());
    try {
      const stored = await this.keys.cool(ctx.repos, route, modelId, wanted);
      if (!stored) return;
      recordCooldown({ provider: route.provider, modelId, platform: route.kind === 'PLATFORM', reason: stored.reason, until: stored.until });
      ctx.log.info(
        {
          account: route.kind === 'PLATFORM' ? route.account : 'connection',
          connectionId: route.kind === 'CONNECTION' ? route.connectionId : undefined,
          provider: route.provider,
          modelId,
          until: stored.until,
          reason: stored.reason,
          failures: stored.failures,
        },
        'model cooling down',
      );
    } catch (error) {
      ctx.log.warn({ err: error, provider: route.provider, modelId }, 'cooldown not written');
    }
  }

  /** The run, or NOT_FOUND. */
  async get(ctx: RequestContext, id: string): Promise<RunEntity> {
    const run = await ctx.loaders.runs.byId.load(id);
    if (!run) throw notFound('Run', id);
    return run;
  }

  find(ctx: RequestContext, id: string): Promise<RunEntity | null> {
    return ctx.loaders.runs.byId.load(id);
  }

  /** A run's attempts, in the order they were made, as the timeline shows them. */
  async attemptsOf(ctx: RequestContext, run: RunEntity): Promise<(RunAttemptEntity & { model: CatalogModel })[]> {
    const attempts = await ctx.loaders.runs.attempts.load(run.id);
    return attempts.map((attempt) => ({ ...attempt, model: this.catalog.get(attempt.modelId) }));
  }

  /** The model option that answered; null when the run failed. */
  servedBy(run: RunEntity): ModelOption | null {
    if (!run.servedByModelId || !run.servedByBilling) return null;
    return { model: this.catalog.get(run.servedByModelId), billing: run.servedByBilling, connectionOwnerId: run.servedByConnectionOwnerId };
  }

  /** An organization's usage in [from, to): one row per provider, model and billing. */
  async usage(ctx: RequestContext, organization: OrganizationEntity, from: Date, to: Date): Promise<UsageRow[]> {
    checkUsagePeriod(from, to);
    const sums = await ctx.loaders.runs.usage.load({ organizationId: organization.id, from, to });
    return priced(this.catalog, sums);
  }

}
