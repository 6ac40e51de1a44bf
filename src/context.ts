import type { DataSource } from 'typeorm';
import { type AgentLoaders, createAgentLoaders } from './agents/agent.loaders';
import { createAuditLoader } from './audit/audit-log.loaders';
import { Access } from './auth/access';
import { createConnectionLoader } from './connections/provider-connection.loaders';
import type { Authentication, Principal } from './auth/authentication';
import type { Logger } from './logger';
import type { Catalog } from './catalog/catalog';
import { createModelSettingsLoaders, type ModelSettingsLoaders } from './model-settings/model-settings.loaders';
import { createRunLoaders, type RunLoaders } from './runs/run.loaders';
import { createOrganizationLoaders, type OrganizationLoaders } from './organizations/organization.loaders';

/** Every per-request loader, by domain. Never shared between requests (or users). */
export interface Loaders {
  organizations: OrganizationLoaders;
  connections: ReturnType<typeof createConnectionLoader>;
  auditPages: ReturnType<typeof createAuditLoader>;
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
  const organizations = createOrganizationLoaders(dataSource);
  const loaders: Loaders = {
    organizations,
    connections: createConnectionLoader(dataSource),
    auditPages: createAuditLoader(dataSource),
    modelSettings: createModelSettingsLoaders(dataSource, catalog, organizations, authentication.principal?.userId ?? null),
    agents: createAgentLoaders(dataSource),
    runs: createRunLoaders(dataSource),
  };
  return {
    requestId,
    log,
    principal: authentication.principal,
    authFailure: authentication.principal ? undefined : authentication.failure,
    loaders,
    access: new Access(authentication.principal, loaders.organizations, loaders.modelSettings.walks),
    signal,
  };
}
