import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { AuditAction } from '../audit/audit-event.entity';
import type { AuditLogService } from '../audit/audit-log.service';
import { type Provider, providerName } from '../catalog/catalog';
import type { RequestContext } from '../context';
import { DomainError, ErrorCode } from '../errors';
import type { OrganizationEntity } from '../organizations/organization.entity';
import type { OrganizationService } from '../organizations/organization.service';
import { checkApiKeyShape, keyHint } from './api-key';
import type { KeyVault } from './key-vault';
import type { ProviderKeyChecker } from './provider-check';
import { ConnectionStatus, ProviderConnectionEntity } from './provider-connection.entity';

/**
 * What still runs on a connection, described for the CONNECTION_IN_USE error; empty when it may
 * go. Model settings answer it (the organization's own pair, and sub-organizations inheriting it);
 * it runs in the disconnect's transaction, which holds the connection's row lock.
 */
export type ConnectionDependents = (manager: EntityManager, connection: ProviderConnectionEntity) => Promise<string[]>;

/** The audit view of a connection: provider and key hint, never the key. */
function audited(connection: ProviderConnectionEntity): Record<string, unknown> {
  return { connectionId: connection.id, provider: connection.provider, keyHint: connection.keyHint, status: connection.status };
}

export class ProviderConnectionService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly vault: KeyVault,
    private readonly checker: ProviderKeyChecker,
    private readonly organizations: OrganizationService,
    private readonly audit: AuditLogService,
    private readonly dependents: ConnectionDependents,
  ) {}

  /** An organization's connections, by provider. */
  connectionsOf(ctx: RequestContext, organization: OrganizationEntity): Promise<ProviderConnectionEntity[]> {
    return ctx.loaders.connections.load(organization.id);
  }

  /**
   * Connects a provider with the organization's own key, or rotates the key of the connection it
   * has. The shape is checked before anything is sent and the provider is asked before anything
   * is stored; the network call holds no transaction open.
   */
  async connect(
    ctx: RequestContext,
    input: { organizationId: string; provider: Provider; apiKey: string },
  ): Promise<ProviderConnectionEntity> {
    checkApiKeyShape(input.provider, input.apiKey);
    const organization = await this.organizations.get(ctx, input.organizationId);
    await this.checker.verify(ctx.log, input.provider, input.apiKey);

    const connection = await this.dataSource.transaction('READ COMMITTED', async (manager) => {
      // Two admins connecting at once: the second insert waits for the first and finds its row,
      // which it then rotates. Either way exactly one connection remains.
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const existing = await manager.findOne(ProviderConnectionEntity, {
          where: { organizationId: organization.id, provider: input.provider },
          lock: { mode: 'pessimistic_write' },
        });
        if (existing) return this.rotate(manager, ctx, existing, input.apiKey);
        const created = await this.insert(manager, organization.id, input.provider, input.apiKey);
        if (created) {
          await this.audit.record(manager, ctx, {
            organizationId: organization.id,
            action: AuditAction.PROVIDER_CONNECTED,
            after: audited(created),
          });
          return created;
        }
      }
      throw new Error('The connection kept changing under a concurrent connect and disconnect');
    });
    ctx.loaders.connections.clear(organization.id);
    ctx.loaders.modelSettings.forget(organization.id);
    ctx.log.info({ organizationId: organization.id, provider: input.provider, connectionId: connection.id }, 'provider connected');
    return connection;
  }

  /** Removes a connection and its ciphertext; false when the organization had none for that provider. */
  async disconnect(ctx: RequestContext, input: { organizationId: string; provider: Provider }): Promise<boolean> {
    const organization = await this.organizations.get(ctx, input.organizationId);
    const removed = await this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const connection = await manager.findOne(ProviderConnectionEntity, {
        where: { organizationId: organization.id, provider: input.provider },
        lock: { mode: 'pessimistic_write' },
      });
      if (!connection) return false;
      const dependents = await this.dependents(manager, connection);
      if (dependents.length > 0) {
        throw new DomainError(
          ErrorCode.CONNECTION_IN_USE,
          `The ${providerName(input.provider)} connection is still in use: ${dependents.join('; ')}`,
          { provider: input.provider, dependents },
        );
      }
      await manager.delete(ProviderConnectionEntity, { id: connection.id });
      await this.audit.record(manager, ctx, {
        organizationId: organization.id,
        action: AuditAction.PROVIDER_DISCONNECTED,
        before: audited(connection),
      });
      return true;
    });
    ctx.loaders.connections.clear(organization.id);
    ctx.loaders.modelSettings.forget(organization.id);
    return removed;
  }

  /** Inserts a new connection; null when a concurrent connect inserted one first. */
  private async insert(
    manager: EntityManager,
    organizationId: string,
    provider: Provider,
    apiKey: string,
  ): Promise<ProviderConnectionEntity | null> {
    // The id is chosen here: the ciphertext is bound to it.
    const id = randomUUID();
    const rows: Record<string, unknown>[] = await manager.query(
      `INSERT INTO provider_connection (id, organization_id, provider, encrypted_key, key_hint, status, last_verified_at)
       VALUES ($1, $2, $3, $4, $5, $6, now())
       ON CONFLICT (organization_id, provider) DO NOTHING
       RETURNING id`,
      [id, organizationId, provider, this.vault.encrypt(apiKey, { organizationId, connectionId: id, provider }), keyHint(apiKey), ConnectionStatus.VERIFIED],
    );
    return rows.length === 0 ? null : manager.findOneByOrFail(ProviderConnectionEntity, { id });
  }

  /** Replaces the key of a locked connection: same id, a new ciphertext, `rotatedAt` set. */
  private async rotate(
    manager: EntityManager,
    ctx: RequestContext,
    existing: ProviderConnectionEntity,
    apiKey: string,
  ): Promise<ProviderConnectionEntity> {
    const binding = { organizationId: existing.organizationId, connectionId: existing.id, provider: existing.provider };
    await manager.query(
      `UPDATE provider_connection
       SET encrypted_key = $2, key_hint = $3, status = $4, rotated_at = now(), last_verified_at = now(), updated_at = now()
       WHERE id = $1`,
      [existing.id, this.vault.encrypt(apiKey, binding), keyHint(apiKey), ConnectionStatus.VERIFIED],
    );
    const rotated = await manager.findOneByOrFail(ProviderConnectionEntity, { id: existing.id });
    await this.audit.record(manager, ctx, {
      organizationId: existing.organizationId,
      action: AuditAction.PROVIDER_KEY_ROTATED,
      before: audited(existing),
      after: audited(rotated),
    });
    return rotated;
  }
}
