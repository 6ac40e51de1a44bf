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

/**
 * The context of one request. Its parts are made when first read: a request that reads no data
 * (the catalog) needs no repositories or loaders, one that calls no provider no abort signal, one
 * that logs nothing but its last line no child logger (src/request-log.ts).
 */
class LazyRequestContext implements RequestContext {
  readonly principal: Principal | null;
  readonly authFailure: string | undefined;
  private madeRepos?: Repositories;
  private madeLoaders?: Loaders;
  private madeAccess?: Access;
  private madeSignal?: AbortSignal;

  constructor(
    private readonly dataSource: DataSource,
    private readonly catalog: Catalog,
    authentication: Authentication,
    readonly requestId: string,
    private readonly logOf: () => Logger,
    private readonly signalOf: (() => AbortSignal) | undefined,
  ) {
    this.principal = authentication.principal;
    this.authFailure = authentication.principal ? undefined : authentication.failure;
  }

  get log(): Logger {
    return this.logOf();
  }

  get repos(): Repositories {
    this.madeRepos ??= createRepositories(this.dataSource);
    return this.madeRepos;
  }

  get loaders(): Loaders {
    if (!this.madeLoaders) {
      const { repos } = this;
      const organizations = createOrganizationLoaders(repos.organizations);
      this.madeLoaders = {
        organizations,
        connections: createConnectionLoaders(repos.connections),
        audit: createAuditLoaders(repos.audit),
        modelSettings: createModelSettingsLoaders(repos.modelSettings, this.catalog, organizations, this.principal?.userId ?? null),
        agents: createAgentLoaders(repos.agents),
        runs: createRunLoaders(repos.runs),
      };
    }
    return this.madeLoaders;
  }

  get access(): Access {
    this.madeAccess ??= new Access(this.principal, this.loaders.organizations, this.loaders.modelSettings.walks);
    return this.madeAccess;
  }

  get signal(): AbortSignal | undefined {
    if (!this.madeSignal && this.signalOf) this.madeSignal = this.signalOf();
    return this.madeSignal;
  }
}

/**
 * A request's context; `log` and `signal` are asked for when first read.
 */
export function createRequestContext(
  dataSource: DataSource,
  catalog: Catalog,
  authentication: Authentication,
  requestId: string,
  log: () => Logger,
  signal?: () => AbortSignal,
): RequestContext {
  return new LazyRequestContext(
    dataSource,
    catalog,
    authentication,
    requestId,
    log,
    signal,
  );
}
