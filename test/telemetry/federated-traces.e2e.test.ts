import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { Trace } from '@apollo/usage-reporting-protobuf';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { parse } from 'graphql';
import { signDevToken } from '../../src/auth/dev-token';
import { type BuiltServer, startBuiltServer } from '../support/built-server';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/database';
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver';
import { makeTestKey, type ProviderStandIn, standInEnv, startProviderStandIn } from '../support/provider-stand-in';
import { startTestServer, type TestServer, TEST_JWT_SECRET } from '../support/test-server';
import { makeChain, makeMembership } from '../support/factories';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

/**
 * Federated traces: the gateway's ftv1 inline traces (field timings, errors as the response shows
 * them), and an OpenTelemetry trace that the gateway starts and this subgraph continues, down to
 * the provider attempt.
 */

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function decodeFtv1(extensions: Record<string, unknown> | undefined): Trace {
  expect(typeof extensions?.ftv1).toBe('string');
  return Trace.decode(Buffer.from(String(extensions?.ftv1), 'base64'));
}

type TraceNode = NonNullable<Trace['root']>;
const nodes = (node: TraceNode | null | undefined): TraceNode[] => (node ? [node, ...(node.child ?? []).flatMap((child) => nodes(child as TraceNode))] : []);

describe('ftv1 inline traces', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers the gateway with the field timings of this subgraph, and nothing to a client that did not ask', async () => {
    const asked = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await server.token('ftv1-user')}`, 'apollo-federation-include-trace': 'ftv1' },
      body: JSON.stringify({ query: '{ modelCatalog { id } }' }),
    });
    const body = (await asked.json()) as { data: { modelCatalog: unknown[] }; extensions?: Record<string, unknown> };

    expect(body.data.modelCatalog.length).toBeGreaterThan(0);
    const inline = decodeFtv1(body.extensions);
    const fields = nodes(inline.root);
    expect(fields.map((node) => node.responseName)).toContain('modelCatalog');
    const catalog = fields.find((node) => node.responseName === 'modelCatalog');
    expect(catalog?.parentType).toBe('Query');
    expect(Number(catalog?.endTime)).toBeGreaterThan(0);

    const plain = await server.graphql('{ modelCatalog { id } }', { as: 'ftv1-user' });
    expect((plain as unknown as { extensions?: unknown }).extensions).toBeUndefined();
  });

  it('says no more of an error than the response does', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await server.token('ftv1-user')}`, 'apollo-federation-include-trace': 'ftv1' },
      body: JSON.stringify({ query: 'query($id: ID!) { run(id: $id) { id } }', variables: { id: '00000000-0000-4000-8000-000000000000' } }),
    });
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[]; extensions?: Record<string, unknown> };

    const errors = nodes(decodeFtv1(body.extensions).root).flatMap((node) => node.error ?? []);
    expect(body.errors.map((error) => error.extensions.code)).toEqual(['FORBIDDEN']);
    expect(errors.map((error) => [error.message, JSON.parse(String(error.json)).extensions])).toEqual(
      body.errors.map((error) => [error.message, error.extensions]),
    );
  });
});

/** A request for ftv1 as the gateway sends it; the answer and the errors of its inline trace. */
async function withTrace(url: string, token: string, query: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'apollo-federation-include-trace': 'ftv1' },
    body: JSON.stringify({ query }),
  });
  const text = await response.text();
  const body = JSON.parse(text) as { errors?: { message: string; extensions: { code: string } }[]; extensions?: Record<string, unknown> };
  const inline = decodeFtv1(body.extensions);
  const errors = nodes(inline.root).flatMap((node) => node.error ?? []);
  return { status: response.status, body, errors, decoded: JSON.stringify(Trace.toObject(inline)) };
}

describe('ftv1 inline traces of failures', () => {
  let server: TestServer;
  let proxy: TcpProxy | undefined;
  let token: string;

  beforeAll(async () => {
    const onServer = serverUrl();
    if (onServer) {
      const target = new URL(onServer);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    }
    server = await startTestServer(
      { DATABASE_STATEMENT_TIMEOUT_MS: '1000', DATABASE_CONNECT_TIMEOUT_MS: '500' },
      proxy ? { databaseUrl: (url) => (proxy as TcpProxy).url(url) } : {},
    );
    const [organization] = await makeChain(server.dataSource, 1, 'Traced failures');
    await makeMembership(server.dataSource, organization, 'ftv1-failures');
    token = await server.token('ftv1-failures');
  });
  afterAll(async () => {
    await proxy?.restore();
    await server?.stop();
    await proxy?.close();
  });

  it('masks an unexpected error in the trace as the response masks it: no SQL, no relation, no stack', async () => {
    await server.dataSource.query('ALTER TABLE organization RENAME TO organization_away');
    let answer;
    try {
      answer = await withTrace(server.url, token, '{ viewer { organizations { name } } }');
    } finally {
      await server.dataSource.query('ALTER TABLE organization_away RENAME TO organization');
    }
    expect(answer.body.errors?.map((error) => [error.message, error.extensions.code])).toEqual([['Internal server error', 'INTERNAL_SERVER_ERROR']]);
    expect(answer.errors.map((error) => [error.message, JSON.parse(String(error.json)).extensions])).toEqual(
      answer.body.errors?.map((error) => [error.message, error.extensions]),
    );
    expect(answer.decoded).not.toMatch(/organization_away|relation|SELECT|stacktrace|\.[jt]s:\d/i);
  });

  (serverUrl() ? it : it.skip)('masks the database being gone in the trace as the response does: no driver message, address or stack', async () => {
    await (proxy as TcpProxy).down();
    let answer;
    try {
      answer = await withTrace(server.url, token, '{ viewer { organizations { name } } }');
    } finally {
      await (proxy as TcpProxy).restore();
    }
    expect(answer.status).toBe(503);
    expect(answer.body.errors?.map((error) => error.extensions.code)).toEqual(['SERVICE_UNAVAILABLE']);
    expect(answer.errors.map((error) => [error.message, JSON.parse(String(error.json)).extensions])).toEqual(
      answer.body.errors?.map((error) => [error.message, error.extensions]),
    );
    expect(answer.decoded).not.toMatch(/ECONNREFUSED|ECONNRESET|terminated|127\.0\.0\.1|stacktrace|\.[jt]s:\d/i);
  });
});

describe('a trace the gateway starts', () => {
  let receiver: OtlpReceiver;
  let standIn: ProviderStandIn;
  let database: TestDatabase;
  let service: BuiltServer;
  let gateway: ApolloServer<{ authorization?: string }>;
  let gatewayUrl: string;
  const gatewaySpans = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(gatewaySpans)] });

  beforeAll(async () => {
    // The gateway's process traces as a router would; the subgraph is told of it by traceparent.
    provider.register();

    receiver = await startOtlpReceiver();
    const apiKey = makeTestKey('ANTHROPIC');
    standIn = await startProviderStandIn({ acceptKeys: [apiKey] });
    database = await createTestDatabase();
    service = await startBuiltServer(
      database.url,
      {
        ...standInEnv(standIn, { platformAnthropicKey: apiKey }),
        DATABASE_CONNECT_TIMEOUT_MS: '10000',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_TRACES_SAMPLER_ARG: '0',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
      { poolSize: database.poolSize },
    );
    const sdl = (await (await fetch(service.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ _service { sdl } }' }) })).json()) as {
      data: { _service: { sdl: string } };
    };
    const composed = composeServices([{ name: 'byom', url: service.url, typeDefs: parse(sdl.data._service.sdl) }]);
    expect(composed.errors).toBeUndefined();
    gateway = new ApolloServer<{ authorization?: string }>({
      gateway: new ApolloGateway({
        supergraphSdl: composed.supergraphSdl,
        logger: quiet,
        buildService: ({ url }) =>
          new RemoteGraphQLDataSource<{ authorization?: string }>({
            url,
            willSendRequest({ request, context: gatewayContext }) {
              if (gatewayContext.authorization) request.http?.headers.set('authorization', gatewayContext.authorization);
              // What the router's HTTP client sends: the context of its fetch span.
              const carrier: Record<string, string> = {};
              propagation.inject(context.active(), carrier);
              for (const [name, value] of Object.entries(carrier)) request.http?.headers.set(name, value);
            },
          }),
      }),
      logger: quiet,
    });
    ({ url: gatewayUrl } = await startStandaloneServer(gateway, {
      listen: { port: 0, host: '127.0.0.1' },
      context: async ({ req }) => ({ authorization: req.headers.authorization }),
    }));
  });
  afterAll(async () => {
    await gateway?.stop();
    await service?.stop();
    await database?.drop();
    await standIn?.close();
    await receiver?.close();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  async function viaGateway(query: string, variables: Record<string, unknown>, token: string) {
    const response = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown };
    expect(body.errors).toBeUndefined();
    return body.data;
  }

  it('continues into this subgraph and down to the provider attempt, readable end to end in the receiver', async () => {
    const operator = await signDevToken(TEST_JWT_SECRET, { sub: 'gw-ops', operator: true });
    const member = await signDevToken(TEST_JWT_SECRET, { sub: 'gw-member' });
    const { createOrganization } = await viaGateway('mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }', { input: { name: 'Gateway traced' } }, operator);
    await viaGateway('mutation($input: SetMembershipInput!) { setMembership(input: $input) { role } }', { input: { organizationId: createOrganization.id, userId: 'gw-member', role: 'MEMBER' } }, operator);
    const { createAgent } = await viaGateway('mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }', { input: { organizationId: createOrganization.id, name: 'Via gateway' } }, member);
    gatewaySpans.reset();

    const { runAgent } = await viaGateway(
      'mutation ThroughGateway($input: RunAgentInput!) { runAgent(input: $input) { status } }',
      { input: { agentId: createAgent.id, messages: [{ role: 'USER', content: 'Through the gateway' }] } },
      member,
    );
    expect(runAgent.status).toBe('SUCCEEDED');

    const fetchSpan = gatewaySpans.getFinishedSpans().find((span) => span.name === 'gateway.fetch');
    expect(fetchSpan).toBeDefined();
    const traceId = fetchSpan!.spanContext().traceId;
    expect(gatewaySpans.getFinishedSpans().find((span) => span.name === 'gateway.request')?.spanContext().traceId).toBe(traceId);
    const spans = await receiver.waitFor(
      (received) => ['provider attempt ', 'POST '].every((name) => received.some((span) => span.traceId === traceId && span.name.startsWith(name))),
      20_000,
    );
    const ofTrace = spans.filter((span) => span.traceId === traceId);
    const serverSpan = ofTrace.find((span) => span.kind === 2);
    expect(serverSpan?.parentSpanId).toBe(fetchSpan!.spanContext().spanId);
    expect(ofTrace.find((span) => span.attributes['graphql.operation.type'] === 'mutation')).toBeDefined();
    expect(ofTrace.find((span) => span.name === 'provider attempt ANTHROPIC')?.attributes).toMatchObject({ 'byom.attempt.outcome': 'SUCCEEDED', 'byom.billing': 'PLATFORM_CREDITS' });
    // The earlier requests came without a sampled parent from a gateway that traced them all: every one was continued.
    expect(new Set(receiver.spans.map((span) => span.traceId)).size).toBeGreaterThanOrEqual(4);
  });
});
