import type { DataSource } from 'typeorm';
import { MembershipEntity, OrgRole } from '../../src/organizations/membership.entity';
import { OrganizationEntity } from '../../src/organizations/organization.entity';

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
