import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { AgentEntity } from '../agents/agent.entity';
import type { AgentService } from '../agents/agent.service';
import { Agent } from '../agents/agent.types';
import type { CatalogModel } from '../catalog/catalog';
import type { RequestContext } from '../context';
import { ModelOption } from '../catalog/model.types';
import type { OrganizationEntity } from '../organizations/organization.entity';
import { Organization } from '../organizations/organization.types';
import type { RunAttemptEntity, RunEntity } from './run.entity';
import type { RunService } from './run.service';
import { Run, RunAgentInput, RunAttempt, UsageRow } from './run.types';

@Resolver(() => Run)
export class RunResolver {
  constructor(
    private readonly runs: RunService,
    private readonly agents: AgentService,
  ) {}

  @Query(() => Run, { nullable: true, description: "One run and its monitor timeline. Members and admins of the agent's organization." })
  run(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<RunEntity> {
    return this.runs.get(ctx, id);
  }

  @FieldResolver(() => Agent, { description: 'The agent that ran.' })
  agent(@Ctx() ctx: RequestContext, @Root() run: RunEntity): Promise<AgentEntity> {
    return this.agents.get(ctx, run.agentId);
  }

  @FieldResolver(() => [RunAttempt], { description: 'In the order they were made.' })
  attempts(@Ctx() ctx: RequestContext, @Root() run: RunEntity): Promise<(RunAttemptEntity & { model: CatalogModel })[]> {
    return this.runs.attemptsOf(ctx, run);
  }

  @FieldResolver(() => ModelOption, { nullable: true, description: 'The model that answered; null when the run failed.' })
  servedBy(@Root() run: RunEntity): ModelOption | null {
    return this.runs.servedBy(run);
  }

  @Mutation(() => Run, {
    description:
      "Sends the messages to the agent's pinned model through the connection that carries it, failing over once to the organization's fallback on a retriable failure. A failed run is returned with status FAILED, not as an error. Members and admins of the agent's organization.",
  })
  runAgent(@Ctx() ctx: RequestContext, @Arg('input') input: RunAgentInput): Promise<RunEntity> {
    return this.runs.run(ctx, input);
  }
}

@Resolver(() => Organization)
export class OrganizationUsageResolver {
  constructor(private readonly runs: RunService) {}

  @FieldResolver(() => [UsageRow], { nullable: true, description: 'Calls of its runs in [from, to), one row per provider, model and billing. Admins only.' })
  usage(
    @Ctx() ctx: RequestContext,
    @Root() organization: OrganizationEntity,
    @Arg('from', () => Date, { description: 'The start of the period, included.' }) from: Date,
    @Arg('to', () => Date, { description: 'The end of the period, excluded (at most 366 days after from).' }) to: Date,
  ): Promise<UsageRow[]> {
    return this.runs.usage(ctx, organization, from, to);
  }
}

/** Federation: another subgraph's reference to a Run by id; null when there is none. */
export function resolveRunReference(runs: RunService): (reference: { id: string }, ctx: RequestContext) => Promise<RunEntity | null> {
  return (reference, ctx) => runs.find(ctx, reference.id);
}
