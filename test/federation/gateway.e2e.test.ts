import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { parse } from 'graphql';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeMembership, makeOrganization, OrgRole } from '../support/factories';
import { startTestServer, type GraphQLResponse, type TestServer } from '../support/test-server';
import { startWorkspaceSubgraph, type Workspace, type WorkspaceSubgraph } from './workspace-subgraph';

/** What the gateway passes from the incoming request to every subgraph. */
interface GatewayContext {
  authorization?: string;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('federation through an Apollo gateway', () => {
  let server: TestServer;
  let workspaces: WorkspaceSubgraph;
  let gateway: ApolloServer<GatewayContext> | undefined;
  let gatewayUrl: string;
  let composed: ReturnType<typeof composeServices>;

  beforeAll(async () => {
    server = await startTestServer();
    workspaces = await startWorkspaceSubgraph();

    // Our SDL as a gateway's tooling reads it: `_service { sdl }`, over HTTP, without a token.
    const service = await server.graphql<{ _service: { sdl: string } }>('{ _service { sdl } }');
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
        buildService: ({ url }) =>
          new RemoteGraphQLDataSource<GatewayContext>({
            url,
            willSendRequest({ request, context }) {
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

  describe.each([
    ['without a token', undefined, 'Authentication required'],
    ['with an invalid token', { raw: 'Bearer not-a-jwt' }, 'The token is not valid'],
  ])('a caller %s', (_case, as, message) => {
    it('gets UNAUTHENTICATED for our fields, and the other subgraph\'s fields still arrive', async () => {
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
      const errors = (result.errors ?? []).map((error) => ({ path: error.path, code: error.extensions?.code }));
      expect(errors).toEqual(
        expect.arrayContaining(
          [0, 1].flatMap((index) => [
            { path: ['workspaces', index, 'organization', 'viewerRole'], code: 'UNAUTHENTICATED' },
            { path: ['workspaces', index, 'organization', 'memberships'], code: 'UNAUTHENTICATED' },
          ]),
        ),
      );
      expect(errors).toHaveLength(4);
      expect(result.errors?.[0].message).toContain(message);
    });

    it('never sees an organization\'s name: UNAUTHENTICATED, and the non-null name nulls the answer', async () => {
      const [organization] = await organizationsWith('gw-anonymous-name', [OrgRole.MEMBER], 'Secret name');
      serveWorkspacesOf([organization]);

      const result = await throughGateway(`{ workspaces { id organization { id name } } }`, as);
      expect(result.errors).toEqual([
        expect.objectContaining({
          path: ['workspaces', 0, 'organization', 'name'],
          extensions: { code: 'UNAUTHENTICATED', serviceName: 'byom' },
        }),
      ]);
      expect(result.data).toBeNull();
      expect(JSON.stringify(result)).not.toContain('Secret name');
    });
  });
});
