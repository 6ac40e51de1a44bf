import { Provider } from '../../src/catalog/catalog';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeConnection } from '../support/factories';
import {
  CALLERS,
  canSee,
  errorsOf,
  isAdmin,
  isMember,
  makePermissionTree,
  makeRejectedAuthorizations,
  OPERATOR,
  ORG_KEYS,
  ORG_NAMES,
  type OrgKey,
  type PermissionTree,
  type RejectedAuthorizations,
  unauthenticatedCallers,
} from '../support/permission-tree';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * Who may read what contract-next group 1 adds (DESIGN.md sections 2 and 12), for every kind of
 * caller, straight and through `_entities`: Organization.pinnableModels (admins), Query.organizations
 * (operators all, others theirs), ProviderConnection.organization and
 * UpdateModelSettingsPayload.organization (what the caller may read of that organization).
 *
 * The tree of test/support/permission-tree.ts ("the organization" is Acme EU); Acme EU and Globex
 * have connected a provider (factories: no key check).
 */

const CONNECTED: Partial<Record<OrgKey, Provider>> = { acmeEu: Provider.ANTHROPIC, globex: Provider.OPENAI };
const PINNABLE: Record<Provider, string[]> = {
  [Provider.ANTHROPIC]: ['claude-opus-4-6', 'claude-sonnet-4-6', 'claude-haiku-4-5'],
  [Provider.OPENAI]: ['gpt-5.4', 'gpt-5-mini', 'gpt-5-nano'],
};

const PINNABLE_QUERY = `query($id: ID!) { organization(id: $id) { id pinnableModels { id } } }`;
const LIST = `{ organizations(first: 100) { edges { node { id name } } } }`;
const CONNECTIONS = `query($id: ID!) { organization(id: $id) { providerConnections { provider organization { id name modelSettings { version } } } } }`;
const UPDATE = `mutation($input: UpdateModelSettingsInput!) {
  updateModelSettings(input: $input) { organization { id name modelSettings { version } pinnableModels { id } } notices { code } }
}`;

describe('the settings page API: permissions (DESIGN.md section 2)', () => {
  let server: TestServer;
  let tree: PermissionTree;
  let headers: RejectedAuthorizations;
  const org = (key: OrgKey): OrganizationEntity => tree[key];

  beforeAll(async () => {
    server = await startTestServer();
    tree = await makePermissionTree(server.dataSource);
    for (const key of ORG_KEYS) {
      const provider = CONNECTED[key];
      if (provider) await makeConnection(server.dataSource, org(key), provider);
    }
    headers = await makeRejectedAuthorizations(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const pinnableOf = (key: OrgKey) => {
    const provider = CONNECTED[key];
    return (provider ? PINNABLE[provider] : []).map((id) => ({ id }));
  };

  describe('Organization.pinnableModels: admins of the organization and operators', () => {
    const cells = CALLERS.flatMap((caller) => ORG_KEYS.map((key) => ({ caller, key, label: caller.label })));
    it.each(cells)('$label, $key', async ({ caller, key }) => {
      const result = await server.graphql(PINNABLE_QUERY, { as: caller.as, variables: { id: org(key).id } });
      if (isAdmin(caller, key)) {
        expect(result.errors).toBeUndefined();
        expect(result.data?.organization).toEqual({ id: org(key).id, pinnableModels: pinnableOf(key) });
      } else if (canSee(caller, key)) {
        expect(result.data?.organization).toEqual({ id: org(key).id, pinnableModels: null });
        expect(errorsOf(result)).toEqual([{ path: ['organization', 'pinnableModels'], code: 'FORBIDDEN' }]);
      } else {
        expect(result.data?.organization).toBeNull();
        expect(errorsOf(result)).toEqual([{ path: ['organization'], code: 'FORBIDDEN' }]);
      }
    });

    it.each(CALLERS)('through _entities, gives $label the pinnable models only of the organizations it admins', async (caller) => {
      const result = await server.graphql(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Organization { id pinnableModels { id } } } }`, {
        as: caller.as,
        variables: { r: ORG_KEYS.map((key) => ({ __typename: 'Organization', id: org(key).id })) },
      });
      expect(result.data?._entities).toEqual(ORG_KEYS.map((key) => ({ id: org(key).id, pinnableModels: isAdmin(caller, key) ? pinnableOf(key) : null })));
      expect(errorsOf(result)).toEqual(
        ORG_KEYS.flatMap((key, index) => (isAdmin(caller, key) ? [] : [{ path: ['_entities', index, 'pinnableModels'], code: 'FORBIDDEN' }])),
      );
    });
  });

  describe('Query.organizations: operators every organization, others those they are members of', () => {
    it.each(CALLERS)('lists for $label exactly its organizations, newest first', async (caller) => {
      const result = await server.graphql(LIST, { as: caller.as });
      expect(result.errors).toBeUndefined();
      const expectedKeys = ORG_KEYS.filter((key) => (caller.as === OPERATOR ? true : isMember(caller, key)));
      const newestFirst = [...expectedKeys].reverse();
      const listed = (result.data?.organizations.edges as { node: { id: string; name: string } }[]).map((edge) => edge.node);
      expect(listed).toEqual(newestFirst.map((key) => ({ id: org(key).id, name: ORG_NAMES[key] })));
    });

    it.each(unauthenticatedCallers(() => headers))('refuses $label with UNAUTHENTICATED and no data', async ({ as, message }) => {
      const result = await server.graphql(LIST, { as: as() });
      expect(result.data).toBeNull();
      expect(errorsOf(result)).toEqual([{ path: ['organizations'], code: 'UNAUTHENTICATED' }]);
      expect(result.errors?.[0].message).toMatch(message);
    });
  });

  describe('ProviderConnection.organization: what the reader of the connections may read of their organization', () => {
    it.each(CALLERS.filter((caller) => isAdmin(caller, 'acmeEu')))('gives $label the organization of each connection', async (caller) => {
      const result = await server.graphql(CONNECTIONS, { as: caller.as, variables: { id: org('acmeEu').id } });
      expect(result.errors).toBeUndefined();
      expect(result.data?.organization.providerConnections).toEqual([
        { provider: 'ANTHROPIC', organization: { id: org('acmeEu').id, name: 'Acme EU', modelSettings: null } },
      ]);
    });

    it.each(CALLERS.filter((caller) => !isAdmin(caller, 'acmeEu')))('gives $label no connection, so no organization through one', async (caller) => {
      const result = await server.graphql(CONNECTIONS, { as: caller.as, variables: { id: org('acmeEu').id } });
      expect(JSON.stringify(result.data)).not.toContain('ANTHROPIC');
      expect(errorsOf(result)[0].code).toBe('FORBIDDEN');
    });
  });

  describe('UpdateModelSettingsPayload.organization and notices: the admins who may save', () => {
    it('gives an admin the saved organization and its admin fields; operators too', async () => {
      for (const [as, version] of [['eu-admin', 1], [OPERATOR, 2]] as const) {
        const result = await server.graphql(UPDATE, {
          as,
          variables: { input: { organizationId: org('acmeEu').id, primaryModelId: 'claude-haiku-4-5' } },
        });
        expect(result.errors).toBeUndefined();
        expect(result.data?.updateModelSettings).toEqual({
          organization: { id: org('acmeEu').id, name: 'Acme EU', modelSettings: { version }, pinnableModels: pinnableOf('acmeEu') },
          notices: [{ code: 'PRIMARY_LACKS_CAPABILITY' }],
        });
      }
    });

    it.each(CALLERS.filter((caller) => !isAdmin(caller, 'acmeEu')))('refuses $label the mutation: no payload, no organization', async (caller) => {
      const result = await server.graphql(UPDATE, {
        as: caller.as,
        variables: { input: { organizationId: org('acmeEu').id, primaryModelId: 'claude-sonnet-4-6' } },
      });
      expect(result.data).toBeNull();
      expect(errorsOf(result)).toEqual([{ path: ['updateModelSettings'], code: 'FORBIDDEN' }]);
    });
  });
});
