import { AuditAction } from '../audit/audit-event.entity';
import type { AuditLogService } from '../audit/audit-log.service';
import type { Catalog } from '../catalog/catalog';
import { findPin, type ModelOption } from '../catalog/model-options';
import type { Clock } from '../clock';
import type { RequestContext } from '../context';
import { notFound } from '../errors';
import type { ModelSettingsService } from '../model-settings/model-settings.service';
import { invalidate } from '../invalidation';
import { checkedName } from '../names';
import type { OrganizationEntity } from '../organizations/organization.entity';
import type { OrganizationService } from '../organizations/organization.service';
import { AGENT_NAME_MAX_LENGTH, type AgentEntity } from './agent.entity';
import type { CreateAgentInput, SetAgentModelInput } from './agent.types';

/** The audit view of an agent. */
function audited(agent: AgentEntity): Record<string, unknown> {
  return { agentId: agent.id, name: agent.name, modelId: agent.modelId, billing: agent.billing };
}

/**
 * Agents and their pins (DESIGN.md section 4). A pin is the resolved full model id and its
 * billing, taken when the agent is created or re-pinned; settings changes never move it. Whether
 * it is still usable, and whose connection carries it, is read from the current effective models.
 */
export class AgentService {
  constructor(
    private readonly organizations: OrganizationService,
    private readonly settings: ModelSettingsService,
    private readonly audit: AuditLogService,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
  ) {}

  /** The agent, or NOT_FOUND. */
  async get(ctx: RequestContext, id: string): Promise<AgentEntity> {
    const agent = await ctx.loaders.agents.byId.load(id);
    if (!agent) throw notFound('Agent', id);
    return agent;
  }

  /** The agent, or null when there is none with that id. */
  find(ctx: RequestContext, id: string): Promise<AgentEntity | null> {
    return ctx.loaders.agents.byId.load(id);
  }

  /** An organization's agents, oldest first. */
  agentsOf(ctx: RequestContext, organization: OrganizationEntity): Promise<AgentEntity[]> {
    return ctx.loaders.agents.ofOrganization.load(organization.id);
  }

  organizationOf(ctx: RequestContext, agent: AgentEntity): Promise<OrganizationEntity> {
    return this.organizations.get(ctx, agent.organizationId);
  }

  /**
   * The agent's pin as a model option. Its connection owner is the one that carries it today; null
   * for a platform model, and for a pin that is no longer available (no connection carries it).
   */
  async modelOf(ctx: RequestContext, agent: AgentEntity): Promise<ModelOption> {
    const option = await this.availablePin(ctx, agent);
    if (option) return option;
    return { model: this.catalog.get(agent.modelId), billing: agent.billing, connectionOwnerId: null };
  }

  /** Whether the pin is still among the organization's available models, and its provider still serves it (not retired). */
  async isModelAvailable(ctx: RequestContext, agent: AgentEntity): Promise<boolean> {
    const pin = await this.availablePin(ctx, agent);
    return pin !== undefined && !this.catalog.isRetired(pin.model, this.clock.now());
  }

  /** The available option the pin stands for: the same model, paid the same way; undefined when there is none. */
  private async availablePin(ctx: RequestContext, agent: AgentEntity): Promise<ModelOption | undefined> {
    const effective = await this.settings.effective(ctx, agent.organizationId);
    return findPin(effective.availableModels, agent);
  }

  /** Creates an agent pinned to the resolved model, or to the organization's effective primary when none is given. */
  async create(ctx: RequestContext, input: CreateAgentInput): Promise<AgentEntity> {
    const name = checkedName(input.name, { what: 'agent name', field: 'name', maxLength: AGENT_NAME_MAX_LENGTH });
    // NOT_FOUND for an unknown organization comes with its effective models.
    const effective = await this.settings.effective(ctx, input.organizationId);
    const { organizationId } = effective;
    const pin = input.model === undefined || input.model === null ? effective.primary : await this.settings.resolve(ctx, organizationId, input.model);
    this.settings.refuseRetired(pin.model, 'model');
    const agent = await ctx.repos.transaction(async (tx) => {
      const created = await tx.agents.insert({ organizationId, name, modelId: pin.model.id, billing: pin.billing });
      await this.audit.record(tx, ctx, { organizationId, action: AuditAction.AGENT_CREATED, after: audited(created) });
      return created;
    });
    invalidate.agent(ctx, agent);
    ctx.log.info({ organizationId, agentId: agent.id, modelId: agent.modelId }, 'agent created');
    return agent;
  }

  /** Re-pins an agent to the resolved model. Pinning the model it already has changes nothing. */
  async setModel(ctx: RequestContext, input: SetAgentModelInput): Promise<AgentEntity> {
    const agent = await this.get(ctx, input.agentId);
    const pin = await this.settings.resolve(ctx, agent.organizationId, input.model);
    this.settings.refuseRetired(pin.model, 'model');
    const updated = await ctx.repos.transaction(async (tx) => {
      const current = await tx.agents.lock(agent.id);
      if (!current) throw notFound('Agent', agent.id);
      if (current.modelId === pin.model.id && current.billing === pin.billing) return current;
      const changed = await tx.agents.setPin(agent.id, { modelId: pin.model.id, billing: pin.billing });
      await this.audit.record(tx, ctx, {
        organizationId: agent.organizationId,
        action: AuditAction.AGENT_MODEL_CHANGED,
        before: audited(current),
        after: audited(changed),
      });
      return changed;
    }, 'READ COMMITTED');
    invalidate.agent(ctx, agent);
    return updated;
  }
}
