import { Provider, providerName } from '../catalog/catalog';
import { Billing, type ModelOption } from '../catalog/model-options';
import type { Config } from '../config';
import type { RequestContext } from '../context';
import type { Repositories } from '../repositories';
import { recordConnectionStatus } from '../telemetry/telemetry';
import type { Cooldown } from '../runs/cooldowns';
import type { KeyVault } from './key-vault';
import { platformAccount } from './connection.repository';
import { ConnectionStatus } from './provider-connection.entity';

/**
 * Which key carries a call (DESIGN.md section 7): a BYOM connection's (the organization's own, or
 * the giver's for inherited models), the platform's for platform models, or none.
 */
export type KeyRoute =
  | (AccountRoute & { kind: 'CONNECTION'; connectionId: string; organizationId: string; ciphertext: string; status: ConnectionStatus; useStale: boolean })
  | (AccountRoute & { kind: 'PLATFORM' })
  | { kind: 'MISSING'; provider: Provider; reason: string };

/** What every route with a key has: the account it calls (a cooldown's account) and the carrier's model's cooldown there. */
interface AccountRoute {
  provider: Provider;
  account: string;
  /** The cooldown of the carrier's model on this account, ended or not; null when it has none. */
  cooldown: Cooldown | null;
}

/** What a call goes through: a provider, who pays, whose connection (BYOM), and for runs the model (whose cooldown the route reads). */
export interface KeyCarrier {
  provider: Provider;
  billing: Billing;
  connectionOwnerId: string | null;
  modelId?: string;
}

export const carrierOf = (option: ModelOption): KeyCarrier => ({
  provider: option.model.provider,
  billing: option.billing,
  connectionOwnerId: option.connectionOwnerId,
  modelId: option.model.id,
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
   * The routes of several carriers, in their order, each with its connection's status and its
   * model's cooldown on that account: one statement (none when no carrier has a key to read).
   */
  async routes(ctx: RequestContext, carriers: readonly KeyCarrier[]): Promise<KeyRoute[]> {
    const unique = (values: (string | null | undefined)[]) => [...new Set(values.filter((value): value is string => typeof value === 'string'))];
    const owners = unique(carriers.map((carrier) => (carrier.billing === Billing.PROVIDER_ACCOUNT ? carrier.connectionOwnerId : null)));
    const platforms = unique(
      carriers.map((carrier) => (carrier.billing === Billing.PLATFORM_CREDITS && this.platformKey(carrier.provider) ? platformAccount(carrier.provider) : null)),
    );
    const models = unique(carriers.map((carrier) => carrier.modelId));
    const rows = owners.length + platforms.length > 0 ? await ctx.repos.connections.keyRoutes(owners, models, platforms) : [];
    const cooldownOn = (account: string, modelId: string | undefined): Cooldown | null => {
      const row = rows.find((candidate) => candidate.account === account && candidate.model_id === modelId);
      return row?.until ? { until: row.until, reason: row.reason as string, failures: row.failures as number } : null;
    };
    return carriers.map(({ provider, billing, connectionOwnerId, modelId }): KeyRoute => {
      if (billing === Billing.PLATFORM_CREDITS) {
        const account = platformAccount(provider);
        return this.platformKey(provider)
          ? { kind: 'PLATFORM', provider, account, cooldown: cooldownOn(account, modelId) }
          : { kind: 'MISSING', provider, reason: `the platform has no ${providerName(provider)} account configured (${PLATFORM_KEY_VARIABLES[provider]})` };
      }
      const connection = rows.find((row) => row.connection_id !== null && row.organization_id === connectionOwnerId && row.provider === provider);
      if (!connection) return { kind: 'MISSING', provider, reason: `the ${providerName(provider)} connection that carried this model is gone` };
      const connectionId = connection.connection_id as string;
      return {
        kind: 'CONNECTION',
        connectionId,
        organizationId: connection.organization_id as string,
        provider,
        ciphertext: connection.encrypted_key as string,
        status: connection.status as ConnectionStatus,
        useStale: connection.use_stale === true,
        account: connectionId,
        cooldown: cooldownOn(connectionId, modelId),
      };
    });
  }

  /**
   * Records that calls went out with these routes' keys (whatever the answer): a connection's
   * `last_used_at` moves, at most once a minute; routes that saw it fresh write nothing.
   */
  async noteUse(repos: Pick<Repositories, 'connections'>, routes: readonly KeyRoute[]): Promise<void> {
    await repos.connections.noteKeyUse([...new Set(routes.flatMap((route) => (route.kind === 'CONNECTION' && route.useStale ? [route.connectionId] : [])))]);
  }

  /**
   * Cools the route's model on its account after a retriable failure, at once (runs starting
   * from then on, on any instance, skip it), to `wanted` or the later end already stored.
   * Answers the cooldown as stored; null when the connection's key changed since the call.
   */
  cool(repos: Pick<Repositories, 'connections'>, route: Exclude<KeyRoute, { kind: 'MISSING' }>, modelId: string, wanted: Cooldown): Promise<Cooldown | null> {
    return repos.connections.coolDown({
      account: route.account,
      connection: route.kind === 'CONNECTION' ? { id: route.connectionId, ciphertext: route.ciphertext } : null,
      provider: route.provider,
      modelId,
      until: wanted.until,
      reason: wanted.reason,
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
