import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { parse } from 'graphql';
import { AgentEntity } from '../../src/agents/agent.entity';
import { Provider } from '../../src/catalog/catalog';
import { Billing } from '../../src/catalog/model-options';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeConnection, makeMembership, makeModelSettings, makeOrganization, OrgRole } from '../support/factories';
import { startTestServer, type GraphQLResponse, type TestServer } from '../support/test-server';
import { startWorkspaceSubgraph, type Workspace, type WorkspaceSubgraph } from './workspace-subgraph';

/** What the gateway passes from the incoming request to every subgraph. */
interface GatewayContext {
  authorization?: string;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The subgraph answers only its router: the secret travels as Apollo Router's `headers`
 * configuration would insert it (`insert: { name: router-authorization, value: … }`) on every
 * subgraph request, the SDL fetch included.
 */
const ROUTER_SECRET = 'gateway-test-router-secret-0123456789';
const routerHeaders = { 'router-authorization': ROUTER_SECRET };

describe('federation through an Apollo gateway', () => {
  let server: TestServer;
  let workspaces: WorkspaceSubgraph;
  let gateway: ApolloServer<GatewayContext> | undefined;
  let gatewayUrl: string;
  let composed: ReturnType<typeof composeServices>;
  /** Every query the gateway sent to our subgraph, in order. */
  const byomRequests: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({ ROUTER_SECRET });
    workspaces = await startWorkspaceSubgraph();

    // Our SDL as a gateway's tooling reads it: `_service { sdl }`, over HTTP, without a token.
    const service = await server.graphql<{ _service: { sdl: string } }>('{ _service { sdl } }', { headers: routerHeaders });
    expect(service.errors).toBeUndefined();
    composed = composeServices([
      { name: 'byom', url: server.url, typeDefs: parse(service.data!._service.sdl) },
      { name: 'workspaces', url: workspaces.url, typeDefs: parse(workspaces.sdl) },
    ]);
    if (composed.errors) return;

    gateway = new ApolloServer<GatewayContext>({
      gateway: new ApolloGateway({
        supergraphSdl: composed.supergraphSdl,
        logger: quiet,
        buildService: ({ name, url }) =>
          new RemoteGraphQLDataSource<GatewayContext>({
            url,
            willSendRequest({ request, context }) {
              if (name === 'byom') byomRequests.push(request.query ?? '');
              if (name === 'byom') request.http?.headers.set('router-authorization', ROUTER_SECRET);
              if (context.authorization) request.http?.headers.set('authorization', context.authorization);
            },
          }),
      }),
      logger: quiet,
      includeStacktraceInErrorResponses: false,
    });
    ({ url: gatewayUrl } = await startStandaloneServer(gateway, {
      listen: { port: 0, host: '127.0.0.1' },
      context: async ({ req }) => ({ authorization: req.headers.authorization }),
    }));
  });

  afterAll(async () => {
    await gateway?.stop();
    await workspaces?.stop();
    await server?.stop();
  });

  it('is the only way in: the subgraph refuses a request without the router secret', async () => {
    const direct = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ _service { sdl } }' }) });
    expect(direct.status).toBe(401);
    expect((await direct.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  /** A query to the gateway, as a user (a token signed for them), with a raw Authorization header, or with none. */
  async function throughGateway<T = Record<string, any>>(query: string, as?: string | { raw: string }): Promise<GraphQLResponse<T>> {
    const authorization = as === undefined ? undefined : typeof as === 'string' ? `Bearer ${await server.token(as)}` : as.raw;
    const response = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ query }),
    });
    const body = (await response.json()) as { data?: any; errors?: any };
    return { status: response.status, data: body.data, errors: body.errors, headers: response.headers };
  }

  let workspaceCounter = 0;
  /** One workspace per organization, served by the workspace subgraph from now on. */
  function serveWorkspacesOf(organizations: OrganizationEntity[]): Workspace[] {
    const list = organizations.map((organization) => {
      workspaceCounter += 1;
      return { id: `ws-${workspaceCounter}`, name: `Workspace ${workspaceCounter}`, organizationId: organization.id };
    });
    workspaces.setWorkspaces(list);
    return list;
  }

  async function organizationsWith(userId: string, roles: OrgRole[], prefix = userId): Promise<OrganizationEntity[]> {
    const organizations: OrganizationEntity[] = [];
    for (const [index, role] of roles.entries()) {
      const organization = await makeOrganization(server.dataSource, { name: `${prefix} ${index}` });
      await makeMembership(server.dataSource, organization, userId, role);
      organizations.push(organization);
    }
    return organizations;
  }

  it('composes our subgraph with another one without errors', () => {
    // The gateway starts only when composition succeeds; this says why it did not.
    expect(composed.errors?.map((error) => error.message)).toBeUndefined();
    expect(composed.supergraphSdl).toContain('type Workspace');
  });

  it('joins workspaces with the organizations of our subgraph, forwarding the caller\'s token', async () => {
    const organizations = await organizationsWith('gw-joiner', [OrgRole.MEMBER, OrgRole.ADMIN, OrgRole.MEMBER], 'Joined');
    const served = serveWorkspacesOf(organizations);
    const before = workspaces.authorizations.length;

    const result = await throughGateway(`{ workspaces { id name organization { id name viewerRole } } }`, 'gw-joiner');
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    expect(result.data?.workspaces).toEqual(
      served.map((workspace, index) => ({
        id: workspace.id,
        name: workspace.name,
        organization: { id: organizations[index].id, name: `Joined ${index}`, viewerRole: index === 1 ? 'ADMIN' : 'MEMBER' },
      })),
    );
    // The workspace subgraph got the caller's token too (our subgraph's answers above prove it for us).
    expect(workspaces.authorizations.slice(before)).toEqual([expect.stringMatching(/^Bearer \S+$/)]);
  });

  describe('batched loading behind _entities', () => {
    const query = `{ workspaces { id name organization { id name viewerRole } } }`;

    async function statementsFor(count: number, userId: string): Promise<number> {
      const organizations = await organizationsWith(userId, Array.from({ length: count }, () => OrgRole.MEMBER));
      serveWorkspacesOf(organizations);
      let result: GraphQLResponse | undefined;
      const statements = await server.countStatements(async () => {
        result = await throughGateway(query, userId);
      });
      expect(result?.errors).toBeUndefined();
      expect(result?.data?.workspaces).toHaveLength(count);
      expect(result?.data?.workspaces.map((workspace: any) => workspace.organization.name)).toEqual(
        organizations.map((organization) => organization.name),
      );
      return statements;
    }

    it('answers 50 workspaces over 50 organizations with as many SQL statements as 1', async () => {
      const one = await statementsFor(1, 'gw-batch-one');
      const fifty = await statementsFor(50, 'gw-batch-fifty');
      expect(one).toBeGreaterThan(0);
      expect(fifty).toBe(one);
      expect(one).toBeLessThanOrEqual(3);
    });
  });

  describe('permissions on entities fetched by reference', () => {
    const query = `{ workspaces { id organization { id name memberships { userId role } } } }`;

    it('hides an organization\'s memberships from a member with FORBIDDEN and shows them to its admin', async () => {
      const organization = await makeOrganization(server.dataSource, { name: 'Guarded' });
      await makeMembership(server.dataSource, organization, 'gw-admin', OrgRole.ADMIN);
      await makeMembership(server.dataSource, organization, 'gw-member', OrgRole.MEMBER);
      const [workspace] = serveWorkspacesOf([organization]);

      const asMember = await throughGateway(query, 'gw-member');
      expect(asMember.data?.workspaces).toEqual([
        { id: workspace.id, organization: { id: organization.id, name: 'Guarded', memberships: null } },
      ]);
      expect(asMember.errors).toHaveLength(1);
      expect(asMember.errors?.[0]).toMatchObject({
        path: ['workspaces', 0, 'organization', 'memberships'],
        extensions: { code: 'FORBIDDEN', serviceName: 'byom' },
      });

      const asAdmin = await throughGateway(query, 'gw-admin');
      expect(asAdmin.errors).toBeUndefined();
      expect(asAdmin.data?.workspaces).toEqual([
        {
          id: workspace.id,
          organization: {
            id: organization.id,
            name: 'Guarded',
            memberships: [
              { userId: 'gw-admin', role: 'ADMIN' },
              { userId: 'gw-member', role: 'MEMBER' },
            ],
          },
        },
      ]);
    });

    it('still answers the siblings of a workspace whose organization\'s memberships are forbidden', async () => {
      const roles = [OrgRole.ADMIN, OrgRole.MEMBER, OrgRole.ADMIN, OrgRole.MEMBER, OrgRole.ADMIN];
      const organizations = await organizationsWith('gw-mixed', roles, 'Mixed');
      const served = serveWorkspacesOf(organizations);

      const result = await throughGateway(query, 'gw-mixed');
      expect(result.data?.workspaces).toEqual(
        served.map((workspace, index) => ({
          id: workspace.id,
          organization: {
            id: organizations[index].id,
            name: `Mixed ${index}`,
            memberships: roles[index] === OrgRole.ADMIN ? [{ userId: 'gw-mixed', role: 'ADMIN' }] : null,
          },
        })),
      );
      const errors = (result.errors ?? []).map((error) => ({ path: error.path, code: error.extensions?.code }));
      expect(errors).toEqual(
        expect.arrayContaining([
          { path: ['workspaces', 1, 'organization', 'memberships'], code: 'FORBIDDEN' },
          { path: ['workspaces', 3, 'organization', 'memberships'], code: 'FORBIDDEN' },
        ]),
      );
      expect(errors).toHaveLength(2);
    });
  });

  describe('effective models and agents of the items of another subgraph', () => {
    const { ANTHROPIC, OPENAI } = Provider;
    const { PROVIDER_ACCOUNT, PLATFORM_CREDITS } = Billing;
    /** The catalog by provider and the platform's default pair, as DESIGN.md sections 1 and 3 write them. */
    const CATALOG: Record<Provider, string[]> = {
      [ANTHROPIC]: ['claude-opus-4-6', 'claude-sonnet-4-6', 'claude-haiku-4-5'],
      [OPENAI]: ['gpt-5.4', 'gpt-5-mini', 'gpt-5-nano'],
    };
    const ALL_MODELS = [...CATALOG[ANTHROPIC], ...CATALOG[OPENAI]];
    const PLATFORM_PAIR = { primary: 'claude-sonnet-4-6', fallback: 'gpt-5-mini' };

    type Source = 'OWN' | 'INHERITED' | 'PLATFORM';
    interface Settings {
      primary: string;
      fallback: string | null;
      exclusive: boolean;
      offer: boolean;
    }
    /**
     * One organization of a group: where it sits and what it has, and, written by hand from
     * DESIGN.md, where its models come from (`from`: the giver) and whether its agent's pin is
     * among its availableModels.
     */
    interface Spec {
      key: string;
      parent?: string;
      providers?: Provider[];
      settings?: Settings;
      source: Source;
      from?: string;
      agent: { modelId: string; billing: Billing; available: boolean };
    }

    /** Ten organizations in three trees; group `g` varies the root's fallback and exclusive mode. */
    function groupSpecs(g: number): Spec[] {
      const rootExclusive = g % 2 === 0;
      const rootFallback = g % 3 === 0 ? null : 'gpt-5.4';
      return [
        // A root with settings of its own, offered to its sub-organizations.
        {
          key: 'R',
          providers: [ANTHROPIC, OPENAI],
          settings: { primary: 'claude-opus-4-6', fallback: rootFallback, exclusive: rootExclusive, offer: true },
          source: 'OWN',
          agent: { modelId: 'claude-sonnet-4-6', billing: PROVIDER_ACCOUNT, available: true },
        },
        // No settings: R's pair and exclusive flag; exclusive hides the platform's models from it.
        {
          key: 'RA',
          parent: 'R',
          source: 'INHERITED',
          from: 'R',
          agent: { modelId: 'claude-sonnet-4-6', billing: PLATFORM_CREDITS, available: !rootExclusive },
        },
        // Settings of its own, not offered.
        {
          key: 'RC',
          parent: 'R',
          providers: [OPENAI],
          settings: { primary: 'gpt-5.4', fallback: null, exclusive: false, offer: false },
          source: 'OWN',
          agent: { modelId: 'claude-haiku-4-5', billing: PLATFORM_CREDITS, available: true },
        },
        // Its parent RC has settings but does not offer them: passed over, R gives.
        {
          key: 'RCD',
          parent: 'RC',
          source: 'INHERITED',
          from: 'R',
          agent: { modelId: 'gpt-5.4', billing: PROVIDER_ACCOUNT, available: rootFallback === 'gpt-5.4' },
        },
        // Settings of its own, offered: the nearest giver of its subtree.
        {
          key: 'RE',
          parent: 'R',
          providers: [OPENAI],
          settings: { primary: 'gpt-5-mini', fallback: 'gpt-5-nano', exclusive: false, offer: true },
          source: 'OWN',
          agent: { modelId: 'claude-opus-4-6', billing: PLATFORM_CREDITS, available: true },
        },
        // RE's pair, never R's; gpt-5.4 on a provider account is not part of it.
        { key: 'REF', parent: 'RE', source: 'INHERITED', from: 'RE', agent: { modelId: 'gpt-5.4', billing: PROVIDER_ACCOUNT, available: false } },
        // Two levels below RE, three below R: still RE's pair.
        { key: 'REFG', parent: 'REF', source: 'INHERITED', from: 'RE', agent: { modelId: 'gpt-5-nano', billing: PROVIDER_ACCOUNT, available: true } },
        // A root whose settings are not offered: its sub-organization gets the platform's pair.
        {
          key: 'P',
          providers: [ANTHROPIC],
          settings: { primary: 'claude-sonnet-4-6', fallback: 'claude-haiku-4-5', exclusive: false, offer: false },
          source: 'OWN',
          agent: { modelId: 'gpt-5-mini', billing: PLATFORM_CREDITS, available: true },
        },
        { key: 'PQ', parent: 'P', source: 'PLATFORM', agent: { modelId: 'claude-sonnet-4-6', billing: PROVIDER_ACCOUNT, available: false } },
        // A connected provider without settings is no settings: the platform's pair and models only.
        { key: 'S', providers: [OPENAI], source: 'PLATFORM', agent: { modelId: 'gpt-5.4', billing: PROVIDER_ACCOUNT, available: false } },
      ];
    }

    interface Item {
      group: number;
      spec: Spec;
      organization: OrganizationEntity;
      agent: AgentEntity;
      /** The organization whose settings apply (itself for OWN, the giver for INHERITED); null for PLATFORM. */
      giver: Item | null;
    }

    /**
     * `groups` groups of organizations, each with one agent, straight into the database. `userId`
     * is an admin of every root and a member of every other organization, except of those
     * `outside` names.
     */
    async function buildForest(userId: string, groups: number, outside: (spec: Spec, group: number) => boolean = () => false): Promise<Item[]> {
      const ds = server.dataSource;
      const agents = ds.getRepository(AgentEntity);
      const items: Item[] = [];
      for (let group = 0; group < groups; group += 1) {
        const ofGroup = new Map<string, Item>();
        for (const spec of groupSpecs(group)) {
          const parent = spec.parent ? ofGroup.get(spec.parent)!.organization : null;
          const organization = await makeOrganization(ds, { name: `${userId} ${group} ${spec.key}`, parent });
          for (const provider of spec.providers ?? []) await makeConnection(ds, organization, provider);
          if (spec.settings) {
            const { primary, fallback, exclusive, offer } = spec.settings;
            await makeModelSettings(ds, organization, { primaryModelId: primary, fallbackModelId: fallback, exclusive, offerToSubOrganizations: offer });
          }
          if (!outside(spec, group)) await makeMembership(ds, organization, userId, parent ? OrgRole.MEMBER : OrgRole.ADMIN);
          const agent = await agents.save(
            agents.create({ organizationId: organization.id, name: `${organization.name} agent`, modelId: spec.agent.modelId, billing: spec.agent.billing }),
          );
          const item: Item = { group, spec, organization, agent, giver: null };
          item.giver = spec.source === 'OWN' ? item : spec.source === 'INHERITED' ? ofGroup.get(spec.from!)! : null;
          ofGroup.set(spec.key, item);
          items.push(item);
        }
      }
      return items;
    }

    /** One workspace per item, in the item's organization and with the item's agent, served from now on. */
    function serveItems(items: Item[]): Workspace[] {
      const list = items.map((item) => {
        workspaceCounter += 1;
        return { id: `ws-${workspaceCounter}`, name: `Workspace ${workspaceCounter}`, organizationId: item.organization.id, agentId: item.agent.id };
      });
      workspaces.setWorkspaces(list);
      return list;
    }

    const option = (id: string, billing: Billing) => ({ model: { id }, billing });

    /** DESIGN.md section 3 for the item's organization: pair, source and exclusive flag. */
    function expectedModels(item: Item) {
      if (!item.giver) {
        return {
          primary: option(PLATFORM_PAIR.primary, PLATFORM_CREDITS),
          fallback: option(PLATFORM_PAIR.fallback, PLATFORM_CREDITS),
          source: 'PLATFORM',
          exclusive: false,
        };
      }
      const { primary, fallback, exclusive } = item.giver.spec.settings!;
      return {
        primary: option(primary, PROVIDER_ACCOUNT),
        fallback: fallback ? option(fallback, PROVIDER_ACCOUNT) : null,
        source: item.spec.source,
        exclusive,
      };
    }

    /** The agent as pinned when it was made, and whether the pin is still available (section 4). */
    function expectedAgent(item: Item) {
      const { modelId, billing, available } = item.spec.agent;
      return { id: item.agent.id, name: item.agent.name, model: option(modelId, billing), modelAvailable: available };
    }

    const PAIRS = `{ workspaces { id organization { id effectiveModels {
      primary { model { id } billing } fallback { model { id } billing } source exclusive } }
      agent { id name model { model { id } billing } modelAvailable } } }`;

    const FOREST_GROUPS = 20; // 200 organizations, 200 agents
    let forest: Item[];
    beforeAll(async () => {
      forest = await buildForest('gw-models', FOREST_GROUPS);
    });

    it('answers 200 items with the pair, source and exclusive flag of their organization and their agent\'s pin', async () => {
      expect(forest).toHaveLength(200);
      // The mix the tree was built for: 80 own, 80 inherited (a quarter of them through an ancestor that does not offer), 40 platform.
      const sources = forest.map((item) => item.spec.source);
      expect(sources.filter((source) => source === 'OWN')).toHaveLength(80);
      expect(sources.filter((source) => source === 'INHERITED')).toHaveLength(80);
      expect(sources.filter((source) => source === 'PLATFORM')).toHaveLength(40);
      const served = serveItems(forest);

      const result = await throughGateway(PAIRS, 'gw-models');

      expect(result.status).toBe(200);
      expect(result.errors).toBeUndefined();
      expect(result.data?.workspaces).toEqual(
        served.map((workspace, index) => ({
          id: workspace.id,
          organization: { id: forest[index].organization.id, effectiveModels: expectedModels(forest[index]) },
          agent: expectedAgent(forest[index]),
        })),
      );
    });

    describe('SQL statements in our subgraph', () => {
      /** What the gateway asked our subgraph and what that cost it, for one query over `items`; checks the answer too. */
      async function costOf(query: string, items: Item[], expected: (item: Item) => Record<string, unknown>) {
        const served = serveItems(items);
        const requestsBefore = byomRequests.length;
        let result: GraphQLResponse | undefined;
        const statements = await server.countStatements(async () => {
          result = await throughGateway(query, 'gw-models');
        });
        expect(result?.errors).toBeUndefined();
        expect(result?.data?.workspaces).toEqual(items.map((item, index) => ({ id: served[index].id, ...expected(item) })));
        return { statements, requests: byomRequests.slice(requestsBefore) };
      }

      const ORGANIZATIONS = `{ workspaces { id organization { id effectiveModels { primary { model { id } } source } } } }`;
      const AGENTS = `{ workspaces { id agent { id name model { model { id } billing } modelAvailable } } }`;
      const organizationOf = (item: Item) => {
        const { primary, source } = expectedModels(item);
        return { organization: { id: item.organization.id, effectiveModels: { primary: { model: primary.model }, source } } };
      };
      const agentOf = (item: Item) => ({ agent: expectedAgent(item) });
      // The deepest organization of a group: INHERITED from two levels up.
      const deepest = () => [forest.find((item) => item.group === 1 && item.spec.key === 'REFG')!];

      it.each([
        // The organizations by id, then their walk, which brings the caller's role with the effective models.
        ['the organizations\' effective models', ORGANIZATIONS, organizationOf, ['Organization'], 2],
        // The agents by id, the caller's memberships, their organizations' walk.
        ['the agents\' pins', AGENTS, agentOf, ['Agent'], 3],
      ] as const)('answers %s for 200 items in one request to our subgraph and as many statements as for 1 (2 for organizations, 3 for agents)', async (_what, query, expected, types, most) => {
        const one = await costOf(query, deepest(), expected);
        const all = await costOf(query, forest, expected);

        for (const { requests } of [one, all]) {
          expect(requests).toHaveLength(1);
          expect(requests[0]).toContain(`_entities`);
          expect(requests[0]).toContain(`...on ${types[0]}`);
        }
        expect(one.statements).toBeGreaterThan(0);
        expect(all.statements).toBe(one.statements);
        expect(all.statements).toBeLessThanOrEqual(most);
      });

      it('answers both for 200 items in two requests to our subgraph, as many statements as for 1, at most 3 a request', async () => {
        const both = (item: Item) => ({ ...organizationOf(item), ...agentOf(item) });
        const query = `{ workspaces { id organization { id effectiveModels { primary { model { id } } source } } agent { id name model { model { id } billing } modelAvailable } } }`;
        const one = await costOf(query, deepest(), both);
        const all = await costOf(query, forest, both);

        // The gateway fetches Organization and Agent entities separately, each request with its own loaders.
        for (const { requests } of [one, all]) {
          expect(requests).toHaveLength(2);
          expect(requests.filter((request) => request.includes('...on Organization'))).toHaveLength(1);
          expect(requests.filter((request) => request.includes('...on Agent'))).toHaveLength(1);
        }
        expect(one.statements).toBeGreaterThan(0);
        expect(all.statements).toBe(one.statements);
        expect(all.statements).toBeLessThanOrEqual(3 * all.requests.length);
      });
    });

    it('joins what the dropdowns show: connection owners, the giver by name, availableModels, and the agent\'s organization', async () => {
      const served = serveItems(forest);
      const query = `{ workspaces { id organization { id effectiveModels {
        primary { model { id } billing connectionOwner { id } } fallback { model { id } billing connectionOwner { id } }
        source inheritedFrom { id name } availableModels { model { id } billing connectionOwner { id } } } }
        agent { id createdAt organization { id } } } }`;

      const result = await throughGateway(query, 'gw-models');

      expect(result.errors).toBeUndefined();
      const withOwner = (id: string, owner: OrganizationEntity | null) =>
        owner ? { ...option(id, PROVIDER_ACCOUNT), connectionOwner: { id: owner.id } } : { ...option(id, PLATFORM_CREDITS), connectionOwner: null };
      expect(result.data?.workspaces).toEqual(
        served.map((workspace, index) => {
          const item = forest[index];
          const owner = item.giver?.organization ?? null;
          const settings = item.giver?.spec.settings;
          // BYOM models first: every model of the providers connected on O (OWN), or the inherited pair; then the platform's, unless exclusive.
          const byomIds =
            item.spec.source === 'OWN'
              ? (item.spec.providers ?? []).flatMap((provider) => CATALOG[provider])
              : settings
                ? [settings.primary, ...(settings.fallback ? [settings.fallback] : [])]
                : [];
          const platformIds = settings?.exclusive ? [] : ALL_MODELS.filter((id) => !byomIds.includes(id));
          return {
            id: workspace.id,
            organization: {
              id: item.organization.id,
              effectiveModels: {
                primary: withOwner(settings?.primary ?? PLATFORM_PAIR.primary, owner),
                fallback: settings ? (settings.fallback ? withOwner(settings.fallback, owner) : null) : withOwner(PLATFORM_PAIR.fallback, null),
                source: item.spec.source,
                inheritedFrom: item.spec.source === 'INHERITED' ? { id: owner!.id, name: owner!.name } : null,
                // The order inside each part is the catalog's; only "BYOM before platform" is the design's.
                availableModels: [...byomIds.map((id) => withOwner(id, owner)), ...platformIds.map((id) => withOwner(id, null))],
              },
            },
            agent: { id: item.agent.id, createdAt: item.agent.createdAt.toISOString(), organization: { id: item.organization.id } },
          };
        }),
      );
    });

    it('answers FORBIDDEN for the effective models and the agent of an item whose organization the caller is not a member of; the other items arrive', async () => {
      // Outside: one giver (its sub-organizations still inherit from it, and may name it), one root with settings, one leaf.
      const outsideKeys = new Set(['0 R', '1 P', '1 REFG']);
      const items = await buildForest('gw-partial', 2, (spec, group) => outsideKeys.has(`${group} ${spec.key}`));
      const served = serveItems(items);
      const outside = items.flatMap((item, index) => (outsideKeys.has(`${item.group} ${item.spec.key}`) ? [index] : []));
      expect(outside).toHaveLength(3);

      const query = `{ workspaces { id organization { id effectiveModels {
        primary { model { id } billing } fallback { model { id } billing } source exclusive inheritedFrom { id name } } }
        agent { id name model { model { id } billing } modelAvailable } } }`;
      const result = await throughGateway(query, 'gw-partial');

      expect(result.status).toBe(200);
      expect(result.data?.workspaces).toEqual(
        served.map((workspace, index) => {
          const item = items[index];
          if (outside.includes(index)) return { id: workspace.id, organization: { id: item.organization.id, effectiveModels: null }, agent: null };
          const giver = item.spec.source === 'INHERITED' ? item.giver!.organization : null;
          return {
            id: workspace.id,
            organization: {
              id: item.organization.id,
              effectiveModels: { ...expectedModels(item), inheritedFrom: giver ? { id: giver.id, name: giver.name } : null },
            },
            agent: expectedAgent(item),
          };
        }),
      );
      const errors = (result.errors ?? []).map((error) => ({ path: error.path, code: error.extensions?.code, service: error.extensions?.serviceName }));
      // Every error is a FORBIDDEN from our subgraph, inside an item whose organization the caller is outside of.
      for (const error of errors) {
        expect(error).toMatchObject({ code: 'FORBIDDEN', service: 'byom' });
        expect(outside).toContain(error.path?.[1]);
      }
      for (const index of outside) {
        expect(errors).toContainEqual({ path: ['workspaces', index, 'organization', 'effectiveModels'], code: 'FORBIDDEN', service: 'byom' });
        expect(errors.some((error) => error.path?.[1] === index && error.path?.[2] === 'agent')).toBe(true);
      }
      // Nothing of the forbidden agents reaches the caller.
      for (const index of outside) expect(JSON.stringify(result)).not.toContain(items[index].agent.name);
    });
  });

  describe.each([
    ['without a token', undefined, 'Authentication required'],
    ['with an invalid token', { raw: 'Bearer not-a-jwt' }, 'The token is not valid'],
  ])('a caller %s', (_case, as, message) => {
    it('gets one UNAUTHENTICATED error for our fetch, and the other subgraph\'s fields still arrive', async () => {
      const organizations = await organizationsWith('gw-anonymous-target', [OrgRole.ADMIN, OrgRole.MEMBER], 'Anonymous');
      const served = serveWorkspacesOf(organizations);

      const result = await throughGateway(`{ workspaces { id name organization { id viewerRole memberships { userId } } } }`, as);
      expect(result.data?.workspaces).toEqual(
        served.map((workspace, index) => ({
          id: workspace.id,
          name: workspace.name,
          organization: { id: organizations[index].id, viewerRole: null, memberships: null },
        })),
      );
      // Our _entities answers one error for the field before reading anything (DESIGN.md section 2);
      // the gateway reports it once, on the path of its fetch.
      expect(result.errors).toEqual([
        expect.objectContaining({
          path: ['workspaces', '@', 'organization', '_entities'],
          extensions: { code: 'UNAUTHENTICATED', serviceName: 'byom' },
        }),
      ]);
      expect(result.errors?.[0].message).toContain(message);
    });

    it('never sees an organization\'s name: UNAUTHENTICATED, and the non-null name nulls the answer', async () => {
      const [organization] = await organizationsWith('gw-anonymous-name', [OrgRole.MEMBER], 'Secret name');
      serveWorkspacesOf([organization]);

      const result = await throughGateway(`{ workspaces { id organization { id name } } }`, as);
      expect(result.errors).toEqual([
        expect.objectContaining({
          path: ['workspaces', '@', 'organization', '_entities'],
          extensions: { code: 'UNAUTHENTICATED', serviceName: 'byom' },
        }),
      ]);
      expect(result.data).toBeNull();
      expect(JSON.stringify(result)).not.toContain('Secret name');
    });
  });
});
