import type { DataSource, EntityManager } from 'typeorm';
import { Provider, providerName } from '../catalog/catalog';
import { Billing, type ModelOption } from '../catalog/model-options';
import type { Config } from '../config';
import type { KeyVault } from './key-vault';
import { ConnectionStatus, ProviderConnectionEntity } from './provider-connection.entity';

/**
 * Which key carries a call (DESIGN.md section 7): a BYOM connection's (the organization's own, or
 * the giver's for inherited models), the platform's for platform models, or none.
 */
export type KeyRoute =
  | { kind: 'CONNECTION'; connectionId: string; organizationId: string; provider: Provider; ciphertext: string }
  | { kind: 'PLATFORM'; provider: Provider }
  | { kind: 'MISSING'; provider: Provider; reason: string };

/** What a call goes through: a provider, who pays, and whose connection (BYOM). */
export interface KeyCarrier {
  provider: Provider;
  billing: Billing;
  connectionOwnerId: string | null;
}

export const carrierOf = (option: ModelOption): KeyCarrier => ({
  provider: option.model.provider,
  billing: option.billing,
  connectionOwnerId: option.connectionOwnerId,
});

/** What the timeline and errors say about a route without a key: which variable or connection is missing. */
const PLATFORM_KEY_VARIABLES: Record<Provider, string> = {
  [Provider.ANTHROPIC]: 'PLATFORM_ANTHROPIC_API_KEY',
  [Provider.OPENAI]: 'PLATFORM_OPENAI_API_KEY',
};

/**
 * Finds the key of each provider call and lends it to the call alone: a BYOM key is decrypted
 * just before the call and dropped after it; nothing here logs or returns a key.
 */
export class ProviderKeys {
  constructor(
    private readonly dataSource: DataSource,
    private readonly vault: KeyVault,
    private readonly platformKeys: Pick<Config['providers'], 'platformAnthropicApiKey' | 'platformOpenaiApiKey'>,
  ) {}

  /** The routes of several carriers, in their order, with one statement for all their connections. */
  async routes(carriers: readonly KeyCarrier[]): Promise<KeyRoute[]> {
    const byom = carriers.filter((carrier) => carrier.billing === Billing.PROVIDER_ACCOUNT && carrier.connectionOwnerId);
    const rows: { id: string; organization_id: string; provider: Provider; encrypted_key: string }[] = byom.length
      ? await this.dataSource.query(
          `SELECT c.id, c.organization_id, c.provider, c.encrypted_key
           FROM provider_connection c JOIN unnest($1::uuid[], $2::provider[]) AS wanted (organization_id, provider)
             ON c.organization_id = wanted.organization_id AND c.provider = wanted.provider`,
          [byom.map((carrier) => carrier.connectionOwnerId), byom.map((carrier) => carrier.provider)],
        )
      : [];
    return carriers.map(({ provider, billing, connectionOwnerId }) => {
      if (billing === Billing.PLATFORM_CREDITS) {
        return this.platformKey(provider)
          ? { kind: 'PLATFORM', provider }
          : { kind: 'MISSING', provider, reason: `the platform has no ${providerName(provider)} account configured (${PLATFORM_KEY_VARIABLES[provider]})` };
      }
      const row = rows.find((candidate) => candidate.organization_id === connectionOwnerId && candidate.provider === provider);
      return row
        ? { kind: 'CONNECTION', connectionId: row.id, organizationId: row.organization_id, provider, ciphertext: row.encrypted_key }
        : { kind: 'MISSING', provider, reason: `the ${providerName(provider)} connection that carried this model is gone` };
    });
  }

  /** Runs `call` with the route's key. */
  withKey<T>(route: Exclude<KeyRoute, { kind: 'MISSING' }>, call: (apiKey: string) => Promise<T>): Promise<T> {
    if (route.kind === 'PLATFORM') return call(this.platformKey(route.provider) as string);
    const apiKey = this.vault.decrypt(route.ciphertext, {
      organizationId: route.organizationId,
      connectionId: route.connectionId,
      provider: route.provider,
    });
    return call(apiKey);
  }

  /**
   * Records what a call said about a connection's key: refused (INVALID), or accepted again after
   * being refused (VERIFIED). Only the key the call used is marked: a key rotated meanwhile is not.
   * Answers whether the status changed.
   */
  async markStatus(manager: EntityManager, route: KeyRoute, status: ConnectionStatus): Promise<boolean> {
    if (route.kind !== 'CONNECTION') return false;
    const { raw } = await manager
      .createQueryBuilder()
      .update(ProviderConnectionEntity)
      .set({ status, ...(status === ConnectionStatus.VERIFIED ? { lastVerifiedAt: () => 'now()' } : {}) })
      .where('id = :id AND encrypted_key = :ciphertext AND status <> :status', { id: route.connectionId, ciphertext: route.ciphertext, status })
      .returning('id')
      .execute();
    const rows = raw as unknown[];
    return rows.length > 0;
  }

  private platformKey(provider: Provider): string | undefined {
    return provider === Provider.ANTHROPIC ? this.platformKeys.platformAnthropicApiKey : this.platformKeys.platformOpenaiApiKey;
  }
}
