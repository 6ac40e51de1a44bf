import { Provider } from '../../src/catalog/catalog';
import { definedStatements } from '../../src/database/statements';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeConnection, makeMembership, makeModelSettings, makeOrganization, OrgRole, tenantMaker } from '../support/factories';
import { OPERATOR, startTestServer, type TestServer } from '../support/test-server';

/**
 * What the Models settings page needs of the API (contract-next group 1, DESIGN.md section 12),
 * over real HTTP on a real database: the payload's organization and notices, a connection's
 * organization, pinnableModels, Query.organizations, and CONNECTION_IN_USE's dependents as data.
 */


const UPDATE = `mutation($input: UpdateModelSettingsInput!) {
  updateModelSettings(input: $input) {
    organization { id name modelSettings { version primaryModel { id } } effectiveModels { source primary { model { id } } } }
    notices { code message model { id } capability }
    warnings
    inheritingSubOrganizations
  }
}`;
const PINNABLE = `query($id: ID!) { organization(id: $id) { pinnableModels { id provider capabilities } } }`;
const CONNECTIONS = `query($id: ID!) { organization(id: $id) { providerConnections { provider organization { id name } } } }`;
const LIST = `query($search: String, $first: Int, $after: String) {
  organizations(search: $search, first: $first, after: $after) { edges { cursor node { id name } } pageInfo { hasNextPage endCursor } }
}`;
const DISCONNECT = `mutation($input: DisconnectProviderInput!) { disconnectProvider(input: $input) }`;

describe('the API of the Models settings page', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const tenant = tenantMaker(() => server.dataSource, 'Page tenant');
  const update = (as: string, input: Record<string, unknown>) => server.graphql(UPDATE, { as, variables: { input } });

  describe('UpdateModelSettingsPayload', () => {
    it('carries the organization as saved, so that a client cache can follow the change', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC], name: 'Cache Co' });
      const result = await update(admin, { organizationId: organization.id, primaryModelId: 'claude-sonnet-4-6', expectedVersion: 0 });
      expect(result.errors).toBeUndefined();
      expect(result.data?.updateModelSettings.organization).toEqual({
        id: organization.id,
        name: 'Cache Co',
        modelSettings: { version: 1, primaryModel: { id: 'claude-sonnet-4-6' } },
        effectiveModels: { source: 'OWN', primary: { model: { id: 'claude-sonnet-4-6' } } },
      });
      expect(result.data?.updateModelSettings.notices).toEqual([]);
    });

    it('gives each warning as a notice with its code, model and capability', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });
      const result = await update(admin, { organizationId: organization.id, primaryModelId: 'claude-haiku-4-5', fallbackModelId: 'gpt-5-nano' });
      expect(result.errors).toBeUndefined();
      const payload = result.data?.updateModelSettings;
      expect(payload.notices).toEqual([
        {
          code: 'PRIMARY_LACKS_CAPABILITY',
          message: "The primary model claude-haiku-4-5 lacks AGENT_TOOLS: agents' tool use degrades to text-only answers on it.",
          model: { id: 'claude-haiku-4-5' },
          capability: 'AGENT_TOOLS',
        },
        {
          code: 'FALLBACK_LACKS_CAPABILITY',
          message: 'The fallback model gpt-5-nano lacks VISION, which the primary model claude-haiku-4-5 has.',
          model: { id: 'gpt-5-nano' },
          capability: 'VISION',
        },
        {
          code: 'FALLBACK_LACKS_CAPABILITY',
          message: 'The fallback model gpt-5-nano lacks FILE_UPLOADS, which the primary model claude-haiku-4-5 has.',
          model: { id: 'gpt-5-nano' },
          capability: 'FILE_UPLOADS',
        },
      ]);
      // The sentences stay as they were.
      expect(payload.warnings).toEqual([
        "The primary model claude-haiku-4-5 lacks AGENT_TOOLS: agents' tool use degrades to text-only answers on it.",
        "The fallback model gpt-5-nano lacks AGENT_TOOLS: agents' tool use degrades to text-only answers on it.",
        'The fallback model gpt-5-nano lacks VISION, FILE_UPLOADS of the primary model claude-haiku-4-5.',
      ]);

      const toolless = await update(admin, { organizationId: organization.id, primaryModelId: 'gpt-5.4', fallbackModelId: 'claude-haiku-4-5' });
      expect(toolless.data?.updateModelSettings.notices).toEqual([
        {
          code: 'FALLBACK_LACKS_CAPABILITY',
          message:
            "The fallback model claude-haiku-4-5 lacks AGENT_TOOLS, which the primary model gpt-5.4 has: agents' tool use degrades to text-only answers on it.",
          model: { id: 'claude-haiku-4-5' },
          capability: 'AGENT_TOOLS',
        },
      ]);
    });
  });

  describe('ProviderConnection.organization', () => {
    it('names the organization that connected the account', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.OPENAI, Provider.ANTHROPIC], name: 'Linked Ltd' });
      const result = await server.graphql(CONNECTIONS, { as: admin, variables: { id: organization.id } });
      expect(result.errors).toBeUndefined();
      expect(result.data?.organization.providerConnections).toEqual([
        { provider: 'ANTHROPIC', organization: { id: organization.id, name: 'Linked Ltd' } },
        { provider: 'OPENAI', organization: { id: organization.id, name: 'Linked Ltd' } },
      ]);
    });
  });

  describe('Organization.pinnableModels', () => {
    const pinnable = async (as: string, organization: OrganizationEntity) => {
      const result = await server.graphql(PINNABLE, { as, variables: { id: organization.id } });
      expect(result.errors).toBeUndefined();
      return (result.data?.organization.pinnableModels as { id: string }[]).map((model) => model.id);
    };

    it('lists the models of the providers connected on the organization itself, and nothing inherited or of the platform', async () => {
      const { organization: parent, admin: parentAdmin } = await tenant({ providers: [Provider.ANTHROPIC] });
      const { organization: child, admin: childAdmin } = await tenant({ parent });
      await makeModelSettings(server.dataSource, parent, { primaryModelId: 'claude-opus-4-6', offerToSubOrganizations: true });

      expect(await pinnable(parentAdmin, parent)).toEqual(['claude-opus-4-6', 'claude-sonnet-4-6', 'claude-haiku-4-5']);
      // The child inherits opus and sees the platform's models, but may pin none of them.
      expect(await pinnable(childAdmin, child)).toEqual([]);
      const refused = await update(childAdmin, { organizationId: child.id, primaryModelId: 'claude-opus-4-6' });
      expect(refused.errors?.[0].extensions.code).toBe('MODEL_NOT_AVAILABLE');

      await makeConnection(server.dataSource, child, Provider.OPENAI);
      expect(await pinnable(childAdmin, child)).toEqual(['gpt-5.4', 'gpt-5-mini', 'gpt-5-nano']);
    });

    it('offers exactly what updateModelSettings accepts as primary and as fallback', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.OPENAI] });
      const offered = await pinnable(admin, organization);
      const catalog = await server.graphql(`{ modelCatalog { id } }`, { as: admin });
      for (const { id } of catalog.data?.modelCatalog as { id: string }[]) {
        const asPrimary = await update(admin, { organizationId: organization.id, primaryModelId: id });
        const other = offered.find((candidate) => candidate !== id) as string;
        const asFallback = await update(admin, { organizationId: organization.id, primaryModelId: other, fallbackModelId: id });
        expect({ id, primary: asPrimary.errors?.[0].extensions.code ?? 'OK', fallback: asFallback.errors?.[0].extensions.code ?? 'OK' }).toEqual({
          id,
          primary: offered.includes(id) ? 'OK' : 'MODEL_NOT_AVAILABLE',
          fallback: offered.includes(id) ? 'OK' : 'MODEL_NOT_AVAILABLE',
        });
      }
    });
  });

  describe('Query.organizations', () => {
    let listed: OrganizationEntity[];
    let member: string;

    beforeAll(async () => {
      listed = [];
      // Names with the characters ILIKE treats specially.
      for (const name of ['Zeta Listed', 'alpha listed', 'Beta 100% Listed', 'Gamma_Listed', 'Delta LISTED']) {
        listed.push(await makeOrganization(server.dataSource, { name }));
        // Newest first is by creation time, which the embedded database's clock counts in
        // milliseconds: two made within one would be ordered by id instead.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      member = 'list-member';
      await makeMembership(server.dataSource, listed[1], member, OrgRole.MEMBER);
      await makeMembership(server.dataSource, listed[3], member, OrgRole.ADMIN);
    });
    const list = (as: string | typeof OPERATOR, variables: Record<string, unknown>) => server.graphql(LIST, { as, variables });
    const names = (result: { data?: any }) => (result.data?.organizations.edges as { node: { name: string } }[]).map((edge) => edge.node.name);

    it('shows an operator every organization, newest first, searching names case-insensitively and literally', async () => {
      const all = await list(OPERATOR, { search: 'listed' });
      expect(all.errors).toBeUndefined();
      expect(names(all)).toEqual(['Delta LISTED', 'Gamma_Listed', 'Beta 100% Listed', 'alpha listed', 'Zeta Listed']);
      expect(names(await list(OPERATOR, { search: '100%' }))).toEqual(['Beta 100% Listed']);
      expect(names(await list(OPERATOR, { search: '_l' }))).toEqual(['Gamma_Listed']);
      expect(names(await list(OPERATOR, { search: '  ALPHA ' }))).toEqual(['alpha listed']);
      expect(names(await list(OPERATOR, { search: 'no such name' }))).toEqual([]);
    });

    it('shows others only the organizations they are members of', async () => {
      expect(names(await list(member, {}))).toEqual(['Gamma_Listed', 'alpha listed']);
      expect(names(await list(member, { search: 'gamma' }))).toEqual(['Gamma_Listed']);
      expect(names(await list('list-stranger', {}))).toEqual([]);
    });

    it('pages with cursors, and costs one statement per page whatever its size', async () => {
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 3; page += 1) {
        let result: any;
        const statements = await server.countStatements(async () => {
          result = await list(OPERATOR, { search: 'listed', first: 2, after });
        });
        expect(statements).toBe(1);
        expect(result.errors).toBeUndefined();
        seen.push(...names(result));
        const { hasNextPage, endCursor } = result.data.organizations.pageInfo;
        expect(hasNextPage).toBe(page < 2);
        expect(endCursor).toBe(result.data.organizations.edges.at(-1).cursor);
        after = endCursor;
      }
      expect(seen).toEqual(['Delta LISTED', 'Gamma_Listed', 'Beta 100% Listed', 'alpha listed', 'Zeta Listed']);
      expect(await server.countStatements(() => list(OPERATOR, { first: 100 }))).toBe(1);
      // A member's page: the list, and the caller's memberships that the name's check reads.
      expect(await server.countStatements(() => list(member, { first: 1 }))).toBe(2);
      expect(await server.countStatements(() => list(member, { first: 100 }))).toBe(2);
    });

    it('refuses a malformed cursor, a negative first and an overlong search with BAD_USER_INPUT, before any SQL', async () => {
      for (const variables of [{ after: 'nonsense' }, { after: Buffer.from("organization:2026-01-01'|x").toString('base64url') }, { first: -1 }, { search: 'x'.repeat(201) }]) {
        let result: any;
        const statements = await server.countStatements(async () => {
          result = await list(OPERATOR, variables);
        });
        expect({ variables, code: result.errors?.[0].extensions.code, statements }).toEqual({ variables, code: 'BAD_USER_INPUT', statements: 0 });
      }
    });

    it("pages a member's organizations with cursors too, one statement a page", async () => {
      const first = await list(member, { first: 1 });
      expect(names(first)).toEqual(['Gamma_Listed']);
      expect(first.data?.organizations.pageInfo.hasNextPage).toBe(true);
      const second = await list(member, { first: 1, after: first.data?.organizations.pageInfo.endCursor });
      expect(names(second)).toEqual(['alpha listed']);
      expect(second.data?.organizations.pageInfo.hasNextPage).toBe(false);
      expect(names(await list(member, { search: 'alpha', first: 1, after: first.data?.organizations.pageInfo.endCursor }))).toEqual(['alpha listed']);
      expect(names(await list(member, { search: 'gamma', first: 1, after: first.data?.organizations.pageInfo.endCursor }))).toEqual([]);
    });

    it('caps a page at 100 organizations', async () => {
      for (let index = 0; index < 101; index += 1) await makeOrganization(server.dataSource, { name: `Bulk ${index}` });
      const result = await list(OPERATOR, { search: 'bulk', first: 500 });
      expect(result.data?.organizations.edges).toHaveLength(100);
      expect(result.data?.organizations.pageInfo.hasNextPage).toBe(true);
    });

    it('reads a page from the index, not the whole table: an operator\'s along (created_at, id) from the cursor, a member\'s from their memberships', async () => {
      const db = server.dataSource;
      // Enough organizations that a scan of the table would cost far more than the index.
      await db.query(`INSERT INTO organization (name, created_at) SELECT 'Planned ' || g, now() - g * interval '1 second' FROM generate_series(1, 20000) g`);
      try {
        await db.query('ANALYZE organization, membership');
        const text = (name: string) => definedStatements().find((statement) => statement.name === name)!.text;
        /** Each node of a plan as "<type> <relation> <index>", e.g. "Index Scan Backward organization organization_created_at_id_idx". */
        const nodes = (node: any): string[] => [
          [node['Node Type'], node['Scan Direction'] === 'Backward' ? 'Backward' : '', node['Relation Name'], node['Index Name']].filter(Boolean).join(' '),
          ...(node.Plans ?? []).flatMap(nodes),
        ];
        const plan = async (name: string, params: unknown[]) => nodes((await db.query(`EXPLAIN (FORMAT JSON) ${text(name)}`, params))[0]['QUERY PLAN'][0].Plan);
        const cursor = [new Date(Date.now() - 5000 * 1000).toISOString(), '00000000-0000-4000-8000-000000000000'];
        for (const params of [[null, null, null, 51], [null, ...cursor, 51], ['%planned 1%', ...cursor, 21]]) {
          const operatorPage = await plan('organization_page', params);
          expect({ params, operatorPage }).toEqual({ params, operatorPage: expect.arrayContaining(['Index Scan Backward organization organization_created_at_id_idx']) });
          const memberPage = await plan('organization_page_of_member', [member, ...params]);
          expect({ params, scansOrganizations: [...operatorPage, ...memberPage].filter((node) => node.startsWith('Seq Scan organization')) }).toEqual({ params, scansOrganizations: [] });
        }
      } finally {
        await db.query(`DELETE FROM organization WHERE name LIKE 'Planned %'`);
      }
    });
  });

  describe('CONNECTION_IN_USE', () => {
    it('carries what depends on the connection as data: organizations, primary or fallback, own or inherited', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI], name: 'Data Giver' });
      const { organization: heir } = await tenant({ parent: organization, name: 'Data Heir' });
      const { organization: own } = await tenant({ parent: organization, name: 'Data Own', providers: [Provider.OPENAI] });
      await makeModelSettings(server.dataSource, own, { primaryModelId: 'gpt-5.4' });
      await update(admin, { organizationId: organization.id, primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5-mini', offerToSubOrganizations: true });

      const result = await server.graphql(DISCONNECT, { as: admin, variables: { input: { organizationId: organization.id, provider: 'OPENAI' } } });

      expect(result.data).toBeNull();
      expect(result.errors?.[0].extensions).toEqual({
        code: 'CONNECTION_IN_USE',
        provider: 'OPENAI',
        dependents: ['the fallback model gpt-5-mini', '1 sub-organization(s) inheriting that pair: Data Heir'],
        uses: [
          { organizationId: organization.id, organizationName: 'Data Giver', role: 'FALLBACK', modelId: 'gpt-5-mini', source: 'OWN' },
          { organizationId: heir.id, organizationName: 'Data Heir', role: 'FALLBACK', modelId: 'gpt-5-mini', source: 'INHERITED' },
        ],
        inheritingSubOrganizations: 1,
      });
    });
  });
});
