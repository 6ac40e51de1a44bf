import { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeChain, makeMembership, makeOrganization, OrgRole } from '../support/factories';
import { OPERATOR, startTestServer, type TestServer } from '../support/test-server';

describe('organizations', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const organizationCount = () => server.dataSource.getRepository(OrganizationEntity).count();

  describe('createOrganization', () => {
    it('creates a root organization and a sub-organization under it', async () => {
      const root = await server.graphql(`mutation { createOrganization(input: { name: "  Acme  " }) { id name parent { id } isParent } }`, { as: OPERATOR });
      expect(root.errors).toBeUndefined();
      expect(root.data?.createOrganization).toMatchObject({ name: 'Acme', parent: null, isParent: false });

      const child = await server.graphql(
        `mutation($parentId: ID) { createOrganization(input: { name: "Acme EU", parentId: $parentId }) { name parent { id name } } }`,
        { as: OPERATOR, variables: { parentId: root.data?.createOrganization.id } },
      );
      expect(child.errors).toBeUndefined();
      expect(child.data?.createOrganization).toEqual({ name: 'Acme EU', parent: { id: root.data?.createOrganization.id, name: 'Acme' } });
    });

    it.each([
      ['an empty name', { name: '' }, 'BAD_USER_INPUT'],
      ['a blank name', { name: '   ' }, 'BAD_USER_INPUT'],
      ['an oversized name', { name: 'x'.repeat(201) }, 'BAD_USER_INPUT'],
      ['a name with control characters', { name: 'Acme\u0000' }, 'BAD_USER_INPUT'],
      ['a malformed parent id', { name: 'Acme', parentId: 'not-a-uuid' }, 'BAD_USER_INPUT'],
      ['an unknown parent', { name: 'Acme', parentId: '00000000-0000-4000-8000-000000000000' }, 'NOT_FOUND'],
    ])('rejects %s with %s and creates nothing', async (_case, input, code) => {
      const before = await organizationCount();
      const result = await server.graphql(`mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }`, {
        as: OPERATOR,
        variables: { input },
      });
      expect(result.errors?.[0].extensions.code).toBe(code);
      expect(result.data).toBeNull();
      expect(await organizationCount()).toBe(before);
    });
  });

  describe('moveOrganization', () => {
    const move = (organizationId: string, parentId: string | null) =>
      server.graphql(
        `mutation($input: MoveOrganizationInput!) { moveOrganization(input: $input) { id parent { id } } }`,
        { as: OPERATOR, variables: { input: { organizationId, parentId } } },
      );
    const parentIdOf = async (id: string) =>
      (await server.dataSource.getRepository(OrganizationEntity).findOneByOrFail({ id })).parentId;

    it('moves an organization under another parent and back to the root', async () => {
      const [a, b] = [await makeOrganization(server.dataSource), await makeOrganization(server.dataSource)];
      const moved = await move(b.id, a.id);
      expect(moved.errors).toBeUndefined();
      expect(moved.data?.moveOrganization.parent).toEqual({ id: a.id });
      expect(await parentIdOf(b.id)).toBe(a.id);

      const toRoot = await move(b.id, null);
      expect(toRoot.data?.moveOrganization.parent).toBeNull();
      expect(await parentIdOf(b.id)).toBeNull();
    });

    it('answers each move of one document with the tree as that move left it', async () => {
      const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map(() => makeOrganization(server.dataSource)));
      const result = await server.graphql(
        `mutation($a: ID!, $b: ID!, $c: ID!, $d: ID!) {
           first: moveOrganization(input: { organizationId: $b, parentId: $a }) { parent { subOrganizations { id } } }
           second: moveOrganization(input: { organizationId: $b, parentId: $c }) { id }
           third: moveOrganization(input: { organizationId: $d, parentId: $a }) { parent { subOrganizations { id } } }
         }`,
        { as: OPERATOR, variables: { a: a.id, b: b.id, c: c.id, d: d.id } },
      );
      expect(result.errors).toBeUndefined();
      expect(result.data?.first.parent.subOrganizations).toEqual([{ id: b.id }]);
      expect(result.data?.third.parent.subOrganizations).toEqual([{ id: d.id }]);
    });

    it('refuses to move an organization under itself with CYCLE', async () => {
      const a = await makeOrganization(server.dataSource);
      const result = await move(a.id, a.id);
      expect(result.errors?.[0].extensions.code).toBe('CYCLE');
      expect(await parentIdOf(a.id)).toBeNull();
    });

    it('refuses to move an organization under one of its descendants with CYCLE', async () => {
      const [root, , , leaf] = await makeChain(server.dataSource, 4, 'Cycle');
      const result = await move(root.id, leaf.id);
      expect(result.errors?.[0].extensions.code).toBe('CYCLE');
      expect(await parentIdOf(root.id)).toBeNull();
    });

    it('never builds a cycle from two concurrent moves of two organizations under each other', async () => {
      for (let round = 0; round < 5; round += 1) {
        const [a, b] = [await makeOrganization(server.dataSource), await makeOrganization(server.dataSource)];
        const results = await Promise.all([move(a.id, b.id), move(b.id, a.id)]);
        const codes = results.map((result) => result.errors?.[0].extensions.code ?? 'OK').sort();
        expect(codes).toEqual(['CYCLE', 'OK']);
        const parents = [await parentIdOf(a.id), await parentIdOf(b.id)];
        expect(parents.filter((parent) => parent !== null)).toHaveLength(1);
      }
    });

    it.each([
      ['a malformed organization id', () => ({ organizationId: 'x', parentId: null }), 'BAD_USER_INPUT'],
      ['an unknown organization', () => ({ organizationId: '00000000-0000-4000-8000-000000000001', parentId: null }), 'NOT_FOUND'],
    ])('rejects %s with %s', async (_case, input, code) => {
      const result = await server.graphql(`mutation($input: MoveOrganizationInput!) { moveOrganization(input: $input) { id } }`, {
        as: OPERATOR,
        variables: { input: input() },
      });
      expect(result.errors?.[0].extensions.code).toBe(code);
    });

    it('rejects an unknown new parent with NOT_FOUND and leaves the organization where it was', async () => {
      const [parent, child] = await makeChain(server.dataSource, 2, 'Stay');
      const result = await move(child.id, '00000000-0000-4000-8000-000000000002');
      expect(result.errors?.[0].extensions.code).toBe('NOT_FOUND');
      expect(await parentIdOf(child.id)).toBe(parent.id);
    });
  });

  describe('a 30-level tree', () => {
    it('serves every level, and a member of the root sees the name of the deepest descendant', async () => {
      const chain = await makeChain(server.dataSource, 30, 'Deep');
      await makeMembership(server.dataSource, chain[0], 'deep-root-member');
      await makeMembership(server.dataSource, chain[29], 'deep-leaf-member');

      const leaf = await server.graphql(`query($id: ID!) { organization(id: $id) { name parent { name } isParent } }`, {
        as: 'deep-leaf-member',
        variables: { id: chain[29].id },
      });
      expect(leaf.errors).toBeUndefined();
      expect(leaf.data?.organization).toEqual({ name: 'Deep 29', parent: { name: 'Deep 28' }, isParent: false });

      const fromRoot = await server.graphql(`query($id: ID!) { organization(id: $id) { name } }`, {
        as: 'deep-root-member',
        variables: { id: chain[29].id },
      });
      expect(fromRoot.errors).toBeUndefined();
      expect(fromRoot.data?.organization).toEqual({ name: 'Deep 29' });

      const fromLeaf = await server.graphql(`query($id: ID!) { organization(id: $id) { name } }`, {
        as: 'deep-leaf-member',
        variables: { id: chain[0].id },
      });
      expect(fromLeaf.data?.organization).toEqual({ name: 'Deep 0' });
    });

    it('refuses to move the root under its 30th-level descendant', async () => {
      const chain = await makeChain(server.dataSource, 30, 'Deeper');
      const result = await server.graphql(`mutation($input: MoveOrganizationInput!) { moveOrganization(input: $input) { id } }`, {
        as: OPERATOR,
        variables: { input: { organizationId: chain[0].id, parentId: chain[29].id } },
      });
      expect(result.errors?.[0].extensions.code).toBe('CYCLE');
    });
  });

  describe('memberships', () => {
    it('sets, changes and removes a role, and the viewer sees it at once', async () => {
      const org = await makeOrganization(server.dataSource, { name: 'Globex' });
      const set = (role: string) =>
        server.graphql(`mutation($input: SetMembershipInput!) { setMembership(input: $input) { userId role organization { name } } }`, {
          as: OPERATOR,
          variables: { input: { organizationId: org.id, userId: 'grace', role } },
        });
      expect((await set('MEMBER')).data?.setMembership).toEqual({ userId: 'grace', role: 'MEMBER', organization: { name: 'Globex' } });
      expect((await set('ADMIN')).data?.setMembership.role).toBe('ADMIN');

      const viewer = await server.graphql(`{ viewer { userId isOperator organizations { name viewerRole memberships { userId role } } } }`, { as: 'grace' });
      expect(viewer.data?.viewer).toEqual({
        userId: 'grace',
        isOperator: false,
        organizations: [{ name: 'Globex', viewerRole: 'ADMIN', memberships: [{ userId: 'grace', role: 'ADMIN' }] }],
      });

      const remove = () =>
        server.graphql(`mutation($input: RemoveMembershipInput!) { removeMembership(input: $input) }`, {
          as: OPERATOR,
          variables: { input: { organizationId: org.id, userId: 'grace' } },
        });
      expect((await remove()).data?.removeMembership).toBe(true);
      expect((await remove()).data?.removeMembership).toBe(false);
      const after = await server.graphql(`{ viewer { organizations { name } } }`, { as: 'grace' });
      expect(after.data?.viewer.organizations).toEqual([]);
    });

    it("gives an operator who is not a member a null viewerRole", async () => {
      const org = await makeOrganization(server.dataSource);
      const result = await server.graphql(`query($id: ID!) { organization(id: $id) { viewerRole } }`, { as: OPERATOR, variables: { id: org.id } });
      expect(result.errors).toBeUndefined();
      expect(result.data?.organization).toEqual({ viewerRole: null });
    });

    it.each([
      ['an empty user id', { userId: '', role: 'MEMBER' }, 'BAD_USER_INPUT'],
      ['a user id with spaces', { userId: 'a b', role: 'MEMBER' }, 'BAD_USER_INPUT'],
      ['an oversized user id', { userId: 'u'.repeat(201), role: 'MEMBER' }, 'BAD_USER_INPUT'],
      ['an unknown role', { userId: 'heidi', role: 'OWNER' }, 'BAD_USER_INPUT'],
    ])('rejects %s with %s and changes nothing', async (_case, input, code) => {
      const org = await makeOrganization(server.dataSource);
      const result = await server.graphql(`mutation($input: SetMembershipInput!) { setMembership(input: $input) { role } }`, {
        as: OPERATOR,
        variables: { input: { organizationId: org.id, ...input } },
      });
      expect(result.errors?.[0].extensions.code).toBe(code);
      const members = await server.graphql(`query($id: ID!) { organization(id: $id) { memberships { userId } } }`, {
        as: OPERATOR,
        variables: { id: org.id },
      });
      expect(members.data?.organization.memberships).toEqual([]);
    });

    it('rejects a membership in an unknown organization with NOT_FOUND', async () => {
      const result = await server.graphql(`mutation($input: SetMembershipInput!) { setMembership(input: $input) { role } }`, {
        as: OPERATOR,
        variables: { input: { organizationId: '00000000-0000-4000-8000-000000000003', userId: 'ivan', role: 'ADMIN' } },
      });
      expect(result.errors?.[0].extensions.code).toBe('NOT_FOUND');
    });
  });

  describe('batched loading', () => {
    const query = `{ viewer { organizations { subOrganizations { name } } } }`;

    async function viewerWith(count: number, userId: string): Promise<number> {
      for (let i = 0; i < count; i += 1) {
        const org = await makeOrganization(server.dataSource, { name: `${userId} ${i}` });
        await makeOrganization(server.dataSource, { name: `${userId} ${i} child`, parent: org });
        await makeMembership(server.dataSource, org, userId, OrgRole.ADMIN);
      }
      let names: string[] = [];
      const statements = await server.countStatements(async () => {
        const result = await server.graphql(query, { as: userId });
        expect(result.errors).toBeUndefined();
        names = result.data?.viewer.organizations.flatMap((org: { subOrganizations: { name: string }[] }) =>
          org.subOrganizations.map((sub) => sub.name),
        );
      });
      expect(names).toHaveLength(count);
      return statements;
    }

    it('reads the sub-organizations of 1 and of 100 organizations with the same number of SQL statements', async () => {
      const one = await viewerWith(1, 'batch-one');
      const hundred = await viewerWith(100, 'batch-hundred');
      expect(hundred).toBe(one);
      expect(one).toBeLessThanOrEqual(5);
    });
  });
});
