import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Provider } from '../../src/catalog/catalog';
import { keyHint } from '../../src/connections/api-key';
import { KeyVault, parseKeyRing } from '../../src/connections/key-vault';
import { ConnectionStatus, ProviderConnectionEntity } from '../../src/connections/provider-connection.entity';
import { ModelSettingsEntity } from '../../src/model-settings/model-settings.entity';
import { MembershipEntity, OrgRole } from '../../src/organizations/membership.entity';
import { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeTestKey } from './provider-stand-in';
import { TEST_ENCRYPTION_KEYS } from './test-server';

let counter = 0;

/** An organization, straight into the database: tests set up through factories, not the API. */
export async function makeOrganization(
  dataSource: DataSource,
  { name, parent }: { name?: string; parent?: OrganizationEntity | null } = {},
): Promise<OrganizationEntity> {
  counter += 1;
  const repository = dataSource.getRepository(OrganizationEntity);
  return repository.save(repository.create({ name: name ?? `Organization ${counter}`, parentId: parent?.id ?? null }));
}

/** A chain of `depth` organizations, root first. */
export async function makeChain(dataSource: DataSource, depth: number, prefix = 'Level'): Promise<OrganizationEntity[]> {
  const chain: OrganizationEntity[] = [];
  for (let level = 0; level < depth; level += 1) {
    chain.push(await makeOrganization(dataSource, { name: `${prefix} ${level}`, parent: chain[level - 1] ?? null }));
  }
  return chain;
}

export async function makeMembership(
  dataSource: DataSource,
  organization: OrganizationEntity,
  userId: string,
  role: OrgRole = OrgRole.MEMBER,
): Promise<MembershipEntity> {
  const repository = dataSource.getRepository(MembershipEntity);
  return repository.save(repository.create({ organizationId: organization.id, userId, role }));
}

export { OrgRole };

/**
 * A provider connection, straight into the database (no key check), its key encrypted with the
 * test servers' key ring so that runs can use it.
 */
export async function makeConnection(
  dataSource: DataSource,
  organization: OrganizationEntity,
  provider: Provider,
  apiKey: string = makeTestKey(provider),
): Promise<ProviderConnectionEntity> {
  const repository = dataSource.getRepository(ProviderConnectionEntity);
  const id = randomUUID();
  const vault = new KeyVault(parseKeyRing(TEST_ENCRYPTION_KEYS));
  return repository.save(
    repository.create({
      id,
      organizationId: organization.id,
      provider,
      encryptedKey: vault.encrypt(apiKey, { organizationId: organization.id, connectionId: id, provider }),
      keyHint: keyHint(apiKey),
      status: ConnectionStatus.VERIFIED,
      lastVerifiedAt: new Date(),
    }),
  );
}

/** An organization's own model settings, straight into the database (at version 1). */
export async function makeModelSettings(
  dataSource: DataSource,
  organization: OrganizationEntity,
  settings: { primaryModelId: string; fallbackModelId?: string | null; exclusive?: boolean; offerToSubOrganizations?: boolean },
): Promise<ModelSettingsEntity> {
  const repository = dataSource.getRepository(ModelSettingsEntity);
  return repository.save(
    repository.create({
      organizationId: organization.id,
      primaryModelId: settings.primaryModelId,
      fallbackModelId: settings.fallbackModelId ?? null,
      exclusive: settings.exclusive ?? false,
      offerToSubOrganizations: settings.offerToSubOrganizations ?? false,
      version: 1,
      updatedBy: 'factory',
    }),
  );
}

export interface TenantOptions {
  parent?: OrganizationEntity;
  /** Connected with a key of their own each (keyOf), straight into the database. */
  providers?: Provider[];
  name?: string;
}

export interface Tenant {
  organization: OrganizationEntity;
  /** An admin of the organization: `<prefix>-admin-<n>`. */
  admin: string;
  /** A member of the organization: `<prefix>-member-<n>`. */
  member: string;
  keyOf: Partial<Record<Provider, string>>;
}

/**
 * Tenants for one test file: each call makes an organization (`<Label> <n>` unless named) with an
 * admin and a member of its own, and the given providers connected with new keys, each told to
 * `onKey` first (to have the provider stand-in accept it, or to look for it in the logs).
 */
export function tenantMaker(dataSource: () => DataSource, label: string, onKey: (apiKey: string) => void = () => undefined) {
  const prefix = label.toLowerCase().replace(/\W+/g, '-');
  let count = 0;
  return async function tenant({ parent, providers = [], name }: TenantOptions = {}): Promise<Tenant> {
    count += 1;
    const organization = await makeOrganization(dataSource(), { name: name ?? `${label} ${count}`, parent });
    const admin = `${prefix}-admin-${count}`;
    const member = `${prefix}-member-${count}`;
    await makeMembership(dataSource(), organization, admin, OrgRole.ADMIN);
    await makeMembership(dataSource(), organization, member, OrgRole.MEMBER);
    const keyOf: Partial<Record<Provider, string>> = {};
    for (const provider of providers) {
      const apiKey = makeTestKey(provider);
      onKey(apiKey);
      await makeConnection(dataSource(), organization, provider, apiKey);
      keyOf[provider] = apiKey;
    }
    return { organization, admin, member, keyOf };
  };
}
