import { Provider, providerName } from '../catalog/catalog';
import { Billing, type ModelOption } from '../catalog/model-options';
import type { Config } from '../config';
import type { RequestContext } from '../context';
import type { Repositories } from '../repositories';
import { recordConnectionStatus } from '../telemetry/telemetry';
import type { KeyVault } from './key-vault';
import { ConnectionStatus } from './provider-connection.entity';

/**
 * Which key carries a call (DESIGN.md section 7): a BYOM connection's (the organization's own, or
 * the giver's for inherited models), the platform's for platform models, or none.
 */
export type KeyRoute =
  | { kind: 'CONNECTION'; connectionId: string; organizationId: string; provider: Provider; ciphertext: string; status: ConnectionStatus }
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
    private readonly vault: KeyVault,
    private readonly platformKeys: Pick<Config['providers'], 'platformAnthropicApiKey' | 'platformOpenaiApiKey'>,
  ) {}

  /**
   * The routes of several carriers, in their order, each with its connection's status as loaded.
   * The connections come from the request's loader: one statement for all their owners, none when
   * the request has already loaded them.
   */
  async routes(ctx: RequestContext, carriers: readonly KeyCarrier[]): Promise<KeyRoute[]> {
    const owners = new Set(carriers.flatMap((carrier) => (carrier.billing === Billing.PROVIDER_ACCOUNT && carrier.connectionOwnerId ? [carrier.connectionOwnerId] : [])));
    const connections = (await Promise.all([...owners].map((owner) => ctx.loaders.connections.ofOrganization.load(owner)))).flat();
    return carriers.map(({ provider, billing, connectionOwnerId }) => {
      if (billing === Billing.PLATFORM_CREDITS) {
        return this.platformKey(provider)
          ? { kind: 'PLATFORM', provider }
          : { kind: 'MISSING', provider, reason: `the platform has no ${providerName(provider)} account configured (${PLATFORM_KEY_VARIABLES[provider]})` };
      }
      const connection = connections.find((candidate) => candidate.organizationId === connectionOwnerId && candidate.provider === provider);
      return connection
        ? {
            kind: 'CONNECTION',
            connectionId: connection.id,
            organizationId: connection.organizationId,
            provider,
            ciphertext: connection.encryptedKey,
            status: connection.status,
          }
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
   * An acceptance of a key the route saw VERIFIED writes nothing, so a successful call costs no
   * statement; a refusal is always written, whatever the route saw.
   * Answers the organization whose connection changed, or null.
   */
  async markStatus(repos: Pick<Repositories, 'connections'>, route: KeyRoute, status: ConnectionStatus): Promise<string | null> {
    if (route.kind !== 'CONNECTION') return null;
    if (status === ConnectionStatus.VERIFIED && route.status === ConnectionStatus.VERIFIED) return null;
    const owner = await repos.connections.markKeyStatus(route.connectionId, route.ciphertext, status);
    if (owner) recordConnectionStatus(route.provider, status);
    return owner;
  }

  private platformKey(provider: Provider): string | undefined {
    return provider === Provider.ANTHROPIC ? this.platformKeys.platformAnthropicApiKey : this.platformKeys.platformOpenaiApiKey;
  }
}
