/**
 * What each kind of change makes stale in the request's loaders, declared once. Services call the
 * one that names their change after it committed; none clears another domain's loaders itself.
 */
import type { RequestContext } from './context';
import type { RunAttemptEntity, RunEntity } from './runs/run.entity';

export const invalidate = {
  /** An organization was created or moved: the tree, and what every organization inherits through it. */
  tree(ctx: RequestContext): void {
    const { organizations, modelSettings } = ctx.loaders;
    organizations.byId.clearAll();
    organizations.children.clearAll();
    organizations.hasChildren.clearAll();
    organizations.ancestorIds.clearAll();
    modelSettings.walks.clearAll();
  },

  /** A user's membership was set or removed: their memberships, every member list, and the roles walks carry. */
  membership(ctx: RequestContext, userId: string): void {
    ctx.loaders.organizations.membershipsOfUser.clear(userId);
    ctx.loaders.organizations.membersOf.clearAll();
    ctx.access.forgetWalkedRoles();
  },

  /** An organization's own settings changed: its settings, and the effective models of every organization below it. */
  modelSettings(ctx: RequestContext): void {
    ctx.loaders.modelSettings.own.clearAll();
    ctx.loaders.modelSettings.walks.clearAll();
  },

  /** A provider was connected or disconnected: the organization's connections and the models they make available. */
  connections(ctx: RequestContext, organizationId: string): void {
    ctx.loaders.connections.ofOrganization.clear(organizationId);
    // A rotation clears the connection's cooldowns; the ids of the organization's connections are not known here.
    ctx.loaders.connections.cooldowns.clearAll();
    ctx.loaders.modelSettings.walks.clear(organizationId);
  },

  /** A call found a key refused, or accepted again: the owner's connections (their status), nothing they make available. */
  keyStatus(ctx: RequestContext, organizationIds: readonly string[]): void {
    for (const id of organizationIds) ctx.loaders.connections.ofOrganization.clear(id);
  },

  /** An agent was created or re-pinned. */
  agent(ctx: RequestContext, agent: { id: string; organizationId: string }): void {
    ctx.loaders.agents.byId.clear(agent.id);
    ctx.loaders.agents.ofOrganization.clear(agent.organizationId);
  },

  /** A run was written: the request that made it reads it and its attempts without SQL. */
  runRecorded(ctx: RequestContext, run: RunEntity, attempts: RunAttemptEntity[]): void {
    ctx.loaders.runs.byId.prime(run.id, run);
    ctx.loaders.runs.attempts.prime(run.id, attempts);
  },
};
