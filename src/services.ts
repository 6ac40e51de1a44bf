import { AgentService } from './agents/agent.service';
import { AuditLogService } from './audit/audit-log.service';
import { type Catalog, catalog as defaultCatalog } from './catalog/catalog';
import { type Clock, systemClock } from './clock';
import type { Config } from './config';
import { KeyVault } from './connections/key-vault';
import { ProviderKeyChecker } from './connections/provider-check';
import { ProviderConnectionService } from './connections/provider-connection.service';
import { ProviderKeys } from './connections/provider-keys';
import { ModelSettingsService } from './model-settings/model-settings.service';
import { MembershipService } from './organizations/membership.service';
import { OrganizationService } from './organizations/organization.service';
import { RunService } from './runs/run.service';
import { FileUploadService } from './uploads/file-upload.service';

/** The service layer, made once per process; every method takes the request context first. */
export interface Services {
  organizations: OrganizationService;
  memberships: MembershipService;
  connections: ProviderConnectionService;
  audit: AuditLogService;
  modelSettings: ModelSettingsService;
  agents: AgentService;
  runs: RunService;
  uploads: FileUploadService;
  catalog: Catalog;
}

/** What routing reads besides the database: the model catalog and the time (tests give their own). */
export interface RoutingOptions {
  catalog?: Catalog;
  clock?: Clock;
}

export function createServices(config: Config, { catalog = defaultCatalog, clock = systemClock }: RoutingOptions = {}): Services {
  const audit = new AuditLogService();
  const organizations = new OrganizationService(audit);
  const vault = new KeyVault(config.encryptionKeys);
  const checker = new ProviderKeyChecker(config.providers, config.providers.checkTimeoutMs);
  const modelSettings = new ModelSettingsService(organizations, audit, catalog, clock);
  const agents = new AgentService(organizations, modelSettings, audit, catalog, clock);
  const keys = new ProviderKeys(vault, config.providers);
  const { requestTimeoutMs } = config.providers;
  return {
    audit,
    organizations,
    memberships: new MembershipService(organizations, audit),
    connections: new ProviderConnectionService(vault, checker, organizations, audit, modelSettings.connectionDependents, catalog, clock),
    modelSettings,
    agents,
    runs: new RunService(agents, modelSettings, keys, config.providers, config.providers, catalog, clock),
    uploads: new FileUploadService(organizations, modelSettings, keys, config.providers, requestTimeoutMs),
    catalog,
  };
}
