import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../context';
import { ModelOption } from '../catalog/model.types';
import type { OrganizationEntity } from '../organizations/organization.entity';
import { Organization } from '../organizations/organization.types';
import type { AgentEntity } from './agent.entity';
import type { AgentService } from './agent.service';
import { Agent, CreateAgentInput, SetAgentModelInput } from './agent.types';

@Resolver(() => Agent)
export class AgentResolver {
  constructor(private readonly agents: AgentService) {}

  @Query(() => Agent, { nullable: true, description: "One agent, by id. Members and admins of the agent's organization." })
  agent(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<AgentEntity> {
    return this.agents.get(ctx, id);
  }

  @FieldResolver(() => Organization, { description: 'The organization the agent belongs to.' })
  organization(@Ctx() ctx: RequestContext, @Root() agent: AgentEntity): Promise<OrganizationEntity> {
    return this.agents.organizationOf(ctx, agent);
  }

  @FieldResolver(() => ModelOption, {
    description: "Pinned at creation (the organization's primary unless given) or by setAgentModel; never changed by settings updates.",
  })
  model(@Ctx() ctx: RequestContext, @Root() agent: AgentEntity): Promise<ModelOption> {
    return this.agents.modelOf(ctx, agent);
  }

  @FieldResolver(() => Boolean, { description: "False when the pinned model is no longer among the organization's availableModels (its runs then fail until it is re-pinned), or when its provider has retired it (its runs go to the fallback)." })
  modelAvailable(@Ctx() ctx: RequestContext, @Root() agent: AgentEntity): Promise<boolean> {
    return this.agents.isModelAvailable(ctx, agent);
  }

  @Mutation(() => Agent, { description: "Creates an agent pinned to the given model, or to the organization's effective primary. Members and admins." })
  createAgent(@Ctx() ctx: RequestContext, @Arg('input') input: CreateAgentInput): Promise<AgentEntity> {
    return this.agents.create(ctx, input);
  }

  @Mutation(() => Agent, { description: "Pins an agent to another model of its organization. Members and admins of the agent's organization." })
  setAgentModel(@Ctx() ctx: RequestContext, @Arg('input') input: SetAgentModelInput): Promise<AgentEntity> {
    return this.agents.setModel(ctx, input);
  }
}

@Resolver(() => Organization)
export class OrganizationAgentsResolver {
  constructor(private readonly agentService: AgentService) {}

  @FieldResolver(() => [Agent], { nullable: true, description: "The organization's agents, oldest first. Members and admins." })
  agents(@Ctx() ctx: RequestContext, @Root() organization: OrganizationEntity): Promise<AgentEntity[]> {
    return this.agentService.agentsOf(ctx, organization);
  }
}

/** Federation: another subgraph's reference to an Agent by id; null when there is none. */
export function resolveAgentReference(agents: AgentService): (reference: { id: string }, ctx: RequestContext) => Promise<AgentEntity | null> {
  return (reference, ctx) => agents.find(ctx, reference.id);
}
