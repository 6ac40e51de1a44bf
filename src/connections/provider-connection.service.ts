import { randomUUID } from 'node:crypto';
import { AuditAction } from '../audit/audit-event.entity';
import type { AuditLogService } from '../audit/audit-log.service';
import { type Catalog, type CatalogModel, type Provider, providerName } from '../catalog/catalog';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { RequestContext } from '../context';
import { DomainError, ErrorCode, notFound } from '../errors';
import { invalidate } from '../invalidation';
import type { OrganizationEntity } from '../organizations/organization.entity';
import type { OrganizationService } from '../organizations/organization.service';
import { recordConnectionStatus } from '../telemetry/telemetry';
import { checkApiKeyShape, keyHint } from './api-key';
import type { KeyVault } from './key-vault';
import type { ProviderKeyChecker } from './provider-check';
import type { Repositories } from '../repositories';
import { ConnectionStatus, type ProviderConnectionEntity } from './provider-connection.entity';
import type { ConnectProviderInput, DisconnectProviderInput } from './provider-connection.types';

/** One use of a connection: an organization's primary or fallback runs on it, by its own settings or inherited. */
export interface ConnectionUse {
  organizationId: string;
  organizationName: string;
  role: 'PRIMARY' | 'FALLBACK';
  modelId: string;
  source: 'OWN' | 'INHERITED';
}

/**
 * What still runs on a connection, for the CONNECTION_IN_USE error: sentences for people and the
 * same as data (`uses`; inheriting sub-organizations beyond the first few are only counted);
 * no descriptions when it may go. `owner` is the connection's organization. Model settings answer it (the organization's own pair, and
 * sub-organizations inheriting it); it runs in the disconnect's transaction, which holds the
 * connection's row lock.
 */
export type ConnectionDependents = (
  tx: Repositories,
  connection: ProviderConnectionEntity,
  owner: OrganizationEntity,
) => Promise<{ descriptions: string[]; uses: ConnectionUse[]; inheritingSubOrganizations: number }>;

/** The audit view of a connection: provider and key hint, never the key. */
function audited(connection: ProviderConnectionEntity): Record<string, unknown> {
  return { connectionId: connection.id, provider: connection.provider, keyHint: connection.keyHint, status: connection.status };
}

export class ProviderConnectionService {
  constructor(
    private readonly vault: KeyVault,
    private readonly checker: ProviderKeyChecker,
    private readonly organizations: OrganizationService,
    private readonly audit: AuditLogService,
    private readonly dependents: ConnectionDependents,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
  ) {}

  /** The models cooling down on a connection now, by model id (DESIGN.md section 7). */
  async cooldownsOf(ctx: RequestContext, connection: ProviderConnectionEntity): Promise<{ model: CatalogModel; until: Date; reason: string; failures: number }[]> {
    const now = this.clock.now();
    const rows = await ctx.loaders.connections.cooldowns.load(connection.id);
    return rows.flatMap(({ modelId, until, reason, failures }) => {
      const model = this.catalog.find(modelId);
      return model && until.getTime() > now ? [{ model, until, reason, failures }] : [];
    });
  }

  /**
   * Asks the provider now whether the stored key is still accepted: VERIFIED, or INVALID when it
   * refuses it (401/403), audited either way (PROVIDER_VERIFIED). No answer is
   * PROVIDER_UNREACHABLE and changes nothing. The network call holds no transaction open.
   */
  async verify(ctx: RequestContext, input: { organizationId: string; provider: Provider }): Promise<ProviderConnectionEntity> {
    const organization = await this.organizations.get(ctx, input.organizationId);
    const connection = (await ctx.loaders.connections.ofOrganization.load(organization.id)).find((candidate) => candidate.provider === input.provider);
    if (!connection) throw notFound(`The ${providerName(input.provider)} connection of organization`, organization.id);
    const status = await this.checkStoredKey(ctx.log, connection);
    const checked = await ctx.repos.transaction(async (tx) => {
      const updated = await tx.connections.recordKeyCheck(connection.id, connection.encryptedKey, status);
      if (!updated) throw new DomainError(ErrorCode.CONFLICT, `The ${providerName(input.provider)} key was replaced or removed while it was being checked`, { provider: input.provider });
      if (connection.status !== updated.status) recordConnectionStatus(connection.provider, updated.status);
      await this.audit.record(tx, ctx, { organizationId: organization.id, action: AuditAction.PROVIDER_VERIFIED, before: audited(connection), after: audited(updated) });
      return updated;
    });
    invalidate.keyStatus(ctx, [organization.id]);
    ctx.log.info({ organizationId: organization.id, provider: input.provider, connectionId: connection.id, status }, 'provider connection verified');
    return checked;
  }

  /**
   * What the provider says of a stored key: VERIFIED or INVALID. PROVIDER_UNREACHABLE (thrown)
   * when it does not answer. The key is decrypted for the call alone.
   */
  async checkStoredKey(log: Logger, connection: Pick<ProviderConnectionEntity, 'id' | 'organizationId' | 'provider' | 'encryptedKey'>, timeoutMs?: number): Promise<ConnectionStatus> {
    const apiKey = this.vault.decrypt(connection.encryptedKey, { organizationId: connection.organizationId, connectionId: connection.id, provider: connection.provider });
    try {
      await this.checker.verify(log, connection.provider, apiKey, timeoutMs);
      return ConnectionStatus.VERIFIED;
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCode.INVALID_API_KEY) return ConnectionStatus.INVALID;
      throw error;
    }
  }

  /** An organization's connections, by provider. */
  connectionsOf(ctx: RequestContext, organization: OrganizationEntity): Promise<ProviderConnectionEntity[]> {
    return ctx.loaders.connections.ofOrganization.load(organization.id);
  }

  /**
   * Connects a provider with the organization's own key, or rotates the key of the connection it
   * has. The shape is checked before anything is sent and the provider is asked before anything
   * is stored; the network call holds no transaction open.
   */
  async connect(
    ctx: RequestContext,
    input: ConnectProviderInput,
  ): Promise<ProviderConnectionEntity> {
    checkApiKeyShape(input.provider, input.apiKey);
    const organization = await this.organizations.get(ctx, input.organizationId);
    await this.checker.verify(ctx.log, input.provider, input.apiKey);

    const connection = await ctx.repos.transaction(async (tx) => {
      // Two admins connecting at once: the second insert waits for the first and finds its row,
      // which it then rotates. Either way exactly one connection remains.
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const existing = await tx.connections.lock(organization.id, input.provider);
        if (existing) return this.rotate(tx, ctx, existing, input.apiKey);
        const created = await this.insert(tx, organization.id, input.provider, input.apiKey);
        if (created) {
          await this.audit.record(tx, ctx, {
            organizationId: organization.id,
            action: AuditAction.PROVIDER_CONNECTED,
            after: audited(created),
          });
          return created;
        }
      }
      throw new Error('The connection kept changing under a concurrent connect and disconnect');
    }, 'READ COMMITTED');
    invalidate.connections(ctx, organization.id);
    ctx.log.info({ organizationId: organization.id, provider: input.provider, connectionId: connection.id }, 'provider connected');
    return connection;
  }

  /** Removes a connection and its ciphertext; false when the organization had none for that provider. */
  async disconnect(ctx: RequestContext, input: DisconnectProviderInput): Promise<boolean> {
    const organization = await this.organizations.get(ctx, input.organizationId);
    const removed = await ctx.repos.transaction(async (tx) => {
      const connection = await tx.connections.lock(organization.id, input.provider);
      if (!connection) return false;
      const { descriptions, uses, inheritingSubOrganizations } = await this.dependents(tx, connection, organization);
      if (descriptions.length > 0) {
        throw new DomainError(
          ErrorCode.CONNECTION_IN_USE,
          `The ${providerName(input.provider)} connection is still in use: ${descriptions.join('; ')}`,
          { provider: input.provider, dependents: descriptions, uses, inheritingSubOrganizations },
        );
      }
      await tx.connections.delete(connection.id);
      await this.audit.record(tx, ctx, {
        organizationId: organization.id,
        action: AuditAction.PROVIDER_DISCONNECTED,
        before: audited(connection),
      });
      return true;
    }, 'READ COMMITTED');
    invalidate.connections(ctx, organization.id);
    return removed;
  }

  /** Inserts a new connection; null when a concurrent connect inserted one first. */
  private insert(tx: Repositories, organizationId: string, provider: Provider, apiKey: string): Promise<ProviderConnectionEntity | null> {
    // The id is chosen here: the ciphertext is bound to it.
    const id = randomUUID();
    const encryptedKey = this.vault.encrypt(apiKey, { organizationId, connectionId: id, provider });
    return tx.connections.insert({ id, organizationId, provider, encryptedKey, keyHint: keyHint(apiKey) });
  }

  /** Replaces the key of a locked connection: same id, a new ciphertext, `rotatedAt` set. */
  private async rotate(tx: Repositories, ctx: RequestContext, existing: ProviderConnectionEntity, apiKey: string): Promise<ProviderConnectionEntity> {
    const binding = { organizationId: existing.organizationId, connectionId: existing.id, provider: existing.provider };
    const rotated = await tx.connections.rotateKey(existing.id, this.vault.encrypt(apiKey, binding), keyHint(apiKey));
    if (existing.status !== rotated.status) recordConnectionStatus(existing.provider, rotated.status);
    // A new key is a new account as far as the provider's limits go: what cooled on the old one does not.
    await tx.connections.clearConnectionCooldowns(existing.id);
    await this.audit.record(tx, ctx, {
      organizationId: existing.organizationId,
      action: AuditAction.PROVIDER_KEY_ROTATED,
      before: audited(existing),
      after: audited(rotated),
    });
    return rotated;
  }
}
