import type { DataSource } from 'typeorm';
import { type AgentLoaders, createAgentLoaders } from './agents/agent.repository';
import { type AuditLoaders, createAuditLoaders } from './audit/audit.repository';
import { Access } from './auth/access';
import { type ConnectionLoaders, createConnectionLoaders } from './connections/connection.repository';
import type { Authentication, Principal } from './auth/authentication';
import type { Logger } from './logger';
import type { Catalog } from './catalog/catalog';
import { createModelSettingsLoaders, type ModelSettingsLoaders } from './model-settings/model-settings.repository';
import { createRunLoaders, type RunLoaders } from './runs/run.repository';
import { createOrganizationLoaders, type OrganizationLoaders } from './organizations/organization.repository';
import { createRepositories, type Repositories } from './repositories';

/** Every per-request loader, by domain. Never shared between requests (or users). */
export interface Loaders {
  organizations: OrganizationLoaders;
  connections: ConnectionLoaders;
  audit: AuditLoaders;
  modelSettings: ModelSettingsLoaders;
  agents: AgentLoaders;
  runs: RunLoaders;
}

/** What every resolver, rule and service method receives first. */
export interface RequestContext {
  requestId: string;
  log: Logger;
  principal: Principal | null;
  /** Why the request has no principal, when it has none. */
  authFailure: string | undefined;
  /** The request's repositories: every statement it sends goes through them. */
  repos: Repositories;
  loaders: Loaders;
  access: Access;
  /** Aborted when the caller goes away before its answer is sent; long work (a run's provider call) stops then. */
  signal?: AbortSignal;
}

export function createRequestContext(
  dataSource: DataSource,
  catalog: Catalog,
  authentication: Authentication,
  requestId: string,
  log: Logger,
  signal?: AbortSignal,
): RequestContext {
  const repos = createRepositories(dataSource);
  const organizations = createOrganizationLoaders(repos.organizations);
  const loaders: Loaders = {
    organizations,
    connections: createConnectionLoaders(repos.connections),
    audit: createAuditLoaders(repos.audit),
    modelSettings: createModelSettingsLoaders(repos.modelSettings, catalog, organizations, authentication.principal?.userId ?? null),
    agents: createAgentLoaders(repos.agents),
    runs: createRunLoaders(repos.runs),
  };
  return {
    requestId,
    log,
    principal: authentication.principal,
    authFailure: authentication.principal ? undefined : authentication.failure,
    repos,
    loaders,
    access: new Access(authentication.principal, loaders.organizations, loaders.modelSettings.walks),
    signal,
  };
}
