import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

/**
 * A second team's subgraph, for the gateway tests: workspaces, each in an organization and
 * optionally with an agent, both of which it references by key only. It has no auth of its own;
 * the test sets the workspaces it serves.
 */
export const WORKSPACE_SDL = `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type Workspace @key(fields: "id") {
    id: ID!
    name: String!
    organization: Organization!
    agent: Agent
  }

  type Organization @key(fields: "id", resolvable: false) {
    id: ID!
  }

  type Agent @key(fields: "id", resolvable: false) {
    id: ID!
  }

  type Query {
    workspaces: [Workspace!]!
  }
`;

export interface Workspace {
  id: string;
  name: string;
  organizationId: string;
  /** The workspace's agent, by id; none when left out. */
  agentId?: string | null;
}

export interface WorkspaceSubgraph {
  url: string;
  sdl: string;
  /** Replaces what `Query.workspaces` answers. */
  setWorkspaces(workspaces: Workspace[]): void;
  /** Every Authorization header the subgraph received, in order (undefined: none). */
  authorizations: (string | undefined)[];
  stop(): Promise<void>;
}

/** Starts the workspace subgraph over HTTP on a loopback port. */
export async function startWorkspaceSubgraph(): Promise<WorkspaceSubgraph> {
  let workspaces: Workspace[] = [];
  const authorizations: (string | undefined)[] = [];
  const schema = buildSubgraphSchema([
    {
      typeDefs: parse(WORKSPACE_SDL),
      resolvers: {
        Query: { workspaces: () => workspaces },
        Workspace: {
          organization: (workspace: Workspace) => ({ __typename: 'Organization', id: workspace.organizationId }),
          agent: (workspace: Workspace) => (workspace.agentId ? { __typename: 'Agent', id: workspace.agentId } : null),
          __resolveReference: (reference: { id: string }) => workspaces.find((workspace) => workspace.id === reference.id) ?? null,
        },
      } as never,
    },
  ]);
  const server = new ApolloServer({
    schema,
    includeStacktraceInErrorResponses: false,
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => {
      authorizations.push(req.headers.authorization);
      return {};
    },
  });
  return {
    url,
    sdl: WORKSPACE_SDL,
    setWorkspaces(next) {
      workspaces = next;
    },
    authorizations,
    stop: () => server.stop(),
  };
}
