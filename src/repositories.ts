import type { DataSource, EntityManager } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import { AgentRepository } from './agents/agent.repository';
import { AuditRepository } from './audit/audit.repository';
import { ConnectionRepository } from './connections/connection.repository';
import { ModelSettingsRepository } from './model-settings/model-settings.repository';
import { OrganizationRepository } from './organizations/organization.repository';
import { RunRepository } from './runs/run.repository';

/**
 * Every domain's repository, made per request (and per transaction): each holds all of its
 * domain's statements, its row mappers, the batch functions of its loaders and its writes.
 * Services hold the rules and call these; they never send SQL themselves.
 */
export interface Repositories {
  agents: AgentRepository;
  audit: AuditRepository;
  connections: ConnectionRepository;
  modelSettings: ModelSettingsRepository;
  organizations: OrganizationRepository;
  runs: RunRepository;
  /**
   * Runs `work` in one transaction, with repositories bound to it: a change that spans domains
   * hands them on (`tx`), so that every statement of the change is in the same transaction.
   * Inside a transaction it runs `work` in that one.
   */
  transaction<T>(work: (tx: Repositories) => Promise<T>, isolation?: IsolationLevel): Promise<T>;
}

function bound(db: DataSource | EntityManager, transaction: Repositories['transaction']): Repositories {
  return {
    agents: new AgentRepository(db),
    audit: new AuditRepository(db),
    connections: new ConnectionRepository(db),
    modelSettings: new ModelSettingsRepository(db),
    organizations: new OrganizationRepository(db),
    runs: new RunRepository(db),
    transaction,
  };
}

/** The repositories of one request (or of a command of the CLI), on the data source. */
export function createRepositories(dataSource: DataSource): Repositories {
  return bound(dataSource, (work, isolation) => {
    const inTransaction = (manager: EntityManager) => {
      const tx: Repositories = bound(manager, (nested) => nested(tx));
      return work(tx);
    };
    return isolation ? dataSource.transaction(isolation, inTransaction) : dataSource.transaction(inTransaction);
  });
}
