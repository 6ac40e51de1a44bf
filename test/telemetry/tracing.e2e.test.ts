import { randomBytes } from 'node:crypto';
import { signDevToken } from '../../src/auth/dev-token';
import { type BuiltServer, startBuiltServer } from '../support/built-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { newTraceparent, type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver';
import { makeTestKey, type ProviderStandIn, standInEnv, startProviderStandIn } from '../support/provider-stand-in';
import { TEST_JWT_SECRET } from '../support/test-server';

/**
 * Traces (DESIGN.md section 11) from the built service, exported by OTLP/HTTP JSON to a receiver
 * of the test's own. Requests without a traceparent are not sampled here (a root ratio of 0), so
 * every span received belongs to a trace a test started: parent-based sampling shows in that.
 */

const SERVER_SPAN = 2;
const CLIENT_SPAN = 3;

describe('traces exported by OTLP/HTTP', () => {
  let receiver: OtlpReceiver;
  let standIn: ProviderStandIn;
  let database: TestDatabase;
  let service: BuiltServer;
  let operatorToken: string;
  let adminToken: string;
  let memberToken: string;
  let organizationId: string;
  let agentId: string;
  /** What no span may hold: keys, prompts, answers, statement parameters, tokens, variables' values. */
  const canaries: string[] = [];
  const started: string[] = [];
  const canary = (what: string) => {
    const value = `canary-${what}-${randomBytes(6).toString('hex')}`;
    canaries.push(value);
    return value;
  };
  const anthropicKey = makeTestKey('ANTHROPIC');
  const openaiKey = makeTestKey('OPENAI');

  async function graphql(query: string, variables: Record<string, unknown>, token: string, traceparent?: string) {
    const response = await fetch(service.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(traceparent ? { traceparent } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: { message: string; extensions: { code: string } }[] };
    if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
    return body.data;
  }

  /** A new sampled trace of the test's own. */
  function trace() {
    const context = newTraceparent();
    started.push(context.traceId);
    return context;
  }

  const spansOf = (traceId: string) => receiver.spans.filter((span) => span.traceId === traceId);
  const attemptsOf = (spans: ReceivedSpan[]) =>
    spans.filter((span) => span.name.startsWith('provider attempt ')).sort((a, b) => (a.startNs < b.startNs ? -1 : 1));

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    standIn = await startProviderStandIn({ acceptKeys: [anthropicKey, openaiKey] });
    canaries.push(anthropicKey, openaiKey);
    database = await createTestDatabase();
    service = await startBuiltServer(
      database.url,
      {
        ...standInEnv(standIn),
        PROVIDER_REQUEST_TIMEOUT_MS: '5000',
        // Start-up loads its modules while the first connection opens: on a busy machine that takes a while.
        DATABASE_CONNECT_TIMEOUT_MS: '10000',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
      { poolSize: database.poolSize },
    );
    operatorToken = await signDevToken(TEST_JWT_SECRET, { sub: 'trace-ops', operator: true });
    adminToken = await signDevToken(TEST_JWT_SECRET, { sub: 'trace-admin' });
    memberToken = await signDevToken(TEST_JWT_SECRET, { sub: 'trace-member' });
    canaries.push(operatorToken, adminToken, memberToken);

    // Set up without a traceparent: none of it is sampled.
    organizationId = (await graphql('mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }', { input: { name: 'Traced' } }, operatorToken))
      .createOrganization.id;
    for (const [userId, role] of [['trace-admin', 'ADMIN'], ['trace-member', 'MEMBER']]) {
      await graphql('mutation($input: SetMembershipInput!) { setMembership(input: $input) { role } }', { input: { organizationId, userId, role } }, operatorToken);
    }
    const connect = 'mutation($input: ConnectProviderInput!) { connectProvider(input: $input) { status } }';
    await graphql(connect, { input: { organizationId, provider: 'ANTHROPIC', apiKey: anthropicKey } }, adminToken);
    await graphql(connect, { input: { organizationId, provider: 'OPENAI', apiKey: openaiKey } }, adminToken);
    await graphql(
      'mutation($input: UpdateModelSettingsInput!) { updateModelSettings(input: $input) { __typename } }',
      { input: { organizationId, primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5.4' } },
      adminToken,
    );
    agentId = (await graphql('mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }', { input: { organizationId, name: 'Traced agent' } }, memberToken)).createAgent.id;
  });
  afterAll(async () => {
    await service?.stop();
    await database?.drop();
    await standIn?.close();
    await receiver?.close();
  });
  beforeEach(() => standIn.reset());

  const RUN = 'mutation RunTraced($input: RunAgentInput!) { runAgent(input: $input) { status output { text } attempts { outcome } } }';
  const runIn = (traceparent: string, prompt: string) =>
    graphql(RUN, { input: { agentId, messages: [{ role: 'USER', content: prompt }] } }, memberToken, traceparent);

  it("continues a request's traceparent: spans of that trace for the operation, its SQL and the provider attempt, and log lines with its ids", async () => {
    const context = trace();
    const prompt = canary('prompt');
    canaries.push(`Echo: ${prompt}`); // the stand-in's answer

    const result = await runIn(context.header, prompt);
    expect(result.runAgent.status).toBe('SUCCEEDED');
    const spans = await receiver.waitFor(() => attemptsOf(spansOf(context.traceId)).length === 1 && spansOf(context.traceId).some((span) => span.kind === SERVER_SPAN));
    const ofTrace = spans.filter((span) => span.traceId === context.traceId);

    const server = ofTrace.find((span) => span.kind === SERVER_SPAN);
    expect(server?.parentSpanId).toBe(context.parentId);
    expect(server?.resource['service.name']).toBe('byom-subgraph');
    const operation = ofTrace.find((span) => span.attributes['graphql.operation.name'] === 'RunTraced');
    expect(operation?.attributes['graphql.operation.type']).toBe('mutation');
    const statements = ofTrace.filter((span) => span.attributes['db.system.name'] === 'postgresql');
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.map((span) => String(span.attributes['db.query.text']))).toEqual(expect.arrayContaining([expect.stringMatching(/^INSERT INTO "?run"? /)]));
    const [attempt] = attemptsOf(ofTrace);
    expect(attempt).toMatchObject({
      name: 'provider attempt ANTHROPIC',
      kind: CLIENT_SPAN,
      attributes: {
        'byom.provider': 'ANTHROPIC',
        'byom.model': 'claude-sonnet-4-6',
        'byom.billing': 'PROVIDER_ACCOUNT',
        'byom.attempt.outcome': 'SUCCEEDED',
        'byom.attempt.cooldown_skip': false,
        'byom.attempt.failover': false,
        'http.response.status_code': 200,
      },
    });
    expect(attempt.attributes['byom.attempt.latency_ms']).toEqual(expect.any(Number));
    // The operation hangs from the request, and what it did from the operation: the request's
    // context reaches its operation however long the request waited for its body and in Apollo.
    expect(server?.attributes['http.route']).toBe('/graphql');
    expect(server?.name).toBe('POST /graphql');
    expect(operation?.parentSpanId).toBe(server?.spanId);
    expect(statements.filter((span) => span.parentSpanId !== operation?.spanId)).toEqual([]);
    expect(attempt.parentSpanId).toBe(operation?.spanId);
    // Every span of the request hangs from the trace the caller started.
    const ids = new Set(ofTrace.map((span) => span.spanId));
    expect(ofTrace.filter((span) => span !== server && !ids.has(span.parentSpanId ?? ''))).toEqual([]);

    // The request's last line is written once its response has gone: it may come after the spans.
    const logged = () => service.logs().filter((line) => line.trace_id === context.traceId);
    for (const until = Date.now() + 5_000; !logged().some((line) => line.msg === 'request completed') && Date.now() < until; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const lines = logged();
    expect(lines.map((line) => line.msg)).toEqual(expect.arrayContaining(['agent run', 'request completed']));
    expect(lines.every((line) => typeof line.span_id === 'string' && ids.has(line.span_id))).toBe(true);
  });

  it('records a failover as two attempt spans with their outcomes', async () => {
    const context = trace();
    standIn.script('ANTHROPIC', { status: 503 });

    const result = await runIn(context.header, canary('prompt'));
    expect(result.runAgent.attempts).toEqual([{ outcome: 'FAILED' }, { outcome: 'SUCCEEDED' }]);
    await receiver.waitFor(() => attemptsOf(spansOf(context.traceId)).length === 2);

    expect(attemptsOf(spansOf(context.traceId)).map((span) => [span.name, span.attributes, span.status.code ?? 0])).toEqual([
      [
        'provider attempt ANTHROPIC',
        expect.objectContaining({ 'byom.attempt.outcome': 'FAILED', 'byom.attempt.reason': 'PROVIDER_UNAVAILABLE', 'http.response.status_code': 503, 'byom.attempt.failover': true }),
        2,
      ],
      [
        'provider attempt OPENAI',
        expect.objectContaining({ 'byom.model': 'gpt-5.4', 'byom.attempt.outcome': 'SUCCEEDED', 'http.response.status_code': 200, 'byom.attempt.failover': false }),
        0,
      ],
    ]);
  });

  it('has a span for each key check, accepted or refused', async () => {
    const accepted = trace();
    const rotated = makeTestKey('OPENAI');
    standIn.acceptKeys(rotated);
    canaries.push(rotated);
    const connect = 'mutation Connect($input: ConnectProviderInput!) { connectProvider(input: $input) { status } }';
    await graphql(connect, { input: { organizationId, provider: 'OPENAI', apiKey: rotated } }, adminToken, accepted.header);
    const refused = trace();
    const wrong = makeTestKey('OPENAI');
    canaries.push(wrong);
    await expect(graphql(connect, { input: { organizationId, provider: 'OPENAI', apiKey: wrong } }, adminToken, refused.header)).rejects.toThrow('INVALID_API_KEY');

    await receiver.waitFor(() => [accepted, refused].every(({ traceId }) => spansOf(traceId).some((span) => span.name === 'key check OPENAI')));
    const check = (traceId: string) => spansOf(traceId).find((span) => span.name === 'key check OPENAI');
    expect(check(accepted.traceId)?.attributes).toMatchObject({ 'byom.provider': 'OPENAI', 'byom.key_check.outcome': 'ACCEPTED', 'http.response.status_code': 200 });
    expect(check(refused.traceId)?.attributes).toMatchObject({ 'byom.key_check.outcome': 'REJECTED', 'http.response.status_code': 401 });
    expect(check(refused.traceId)?.status).toEqual({ code: 2, message: 'REJECTED' });
  });

  it('neither traces nor logs the polled routes, with or without a query, even under a sampled traceparent', async () => {
    const origin = new URL(service.url).origin;
    const polled = ['/healthz', '/readyz', '/metrics', '/healthz?probe=1', '/readyz?from=kubelet'].map((path) => ({ path, context: trace() }));
    for (const { path, context } of polled) expect((await fetch(`${origin}${path}`, { headers: { traceparent: context.header } })).status).toBe(200);
    // A route that is served, sent last under its own sampled trace: once its span and its line are
    // in, the polled requests before it have had their chance to show.
    const served = trace();
    expect((await fetch(`${origin}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { traceparent: served.header, 'apollo-require-preflight': 'true' } })).status).toBe(200);
    await receiver.waitFor(() => spansOf(served.traceId).some((span) => span.kind === SERVER_SPAN));
    for (const until = Date.now() + 5_000; !service.logs().some((line) => line.trace_id === served.traceId && line.msg === 'request completed') && Date.now() < until; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(service.logs().filter((line) => line.trace_id === served.traceId && line.msg === 'request completed')).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(polled.filter(({ context }) => spansOf(context.traceId).length > 0).map(({ path }) => path)).toEqual([]);
    const completedPaths = service.logs().filter((line) => line.msg === 'request completed').map((line) => (line.req as { url?: string } | undefined)?.url);
    expect(completedPaths.filter((path) => ['/healthz', '/readyz', '/metrics'].includes(String(path)))).toEqual([]);
  });

  it('exports no key, prompt, answer, statement parameter, token or variable value, and nothing of requests without a sampled parent', async () => {
    // A statement parameter: the agent's name goes into an INSERT as one.
    const named = trace();
    const name = canary('agent-name');
    await graphql('mutation Named($input: CreateAgentInput!) { createAgent(input: $input) { id } }', { input: { organizationId, name } }, memberToken, named.header);
    // A variable's value in a GET request's query string, and an error whose message quotes input.
    const viaGet = trace();
    const searched = canary('variable');
    const url = new URL(service.url);
    url.searchParams.set('query', 'query Find($id: ID!) { run(id: $id) { id } }');
    url.searchParams.set('variables', JSON.stringify({ id: searched }));
    const get = await fetch(url, { headers: { authorization: `Bearer ${memberToken}`, traceparent: viaGet.header, 'apollo-require-preflight': 'true' } });
    expect(get.status).toBe(200);
    // Not sampled: no traceparent, and a traceparent that is not sampled.
    const unsampled = newTraceparent();
    await graphql('query Catalog { modelCatalog { id } }', {}, memberToken);
    await graphql('query Catalog { modelCatalog { id } }', {}, memberToken, `00-${unsampled.traceId}-${unsampled.parentId}-00`);

    await receiver.waitFor(
      () =>
        spansOf(named.traceId).some((span) => String(span.attributes['db.query.text']).match(/^INSERT INTO "?agent"? /) !== null) &&
        spansOf(viaGet.traceId).some((span) => span.kind === SERVER_SPAN),
    );
    // Spans are batched: what was ended by now is exported within the schedule delay.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const exported = receiver.bodies.join('\n');
    expect(exported).toContain('provider attempt');
    expect(canaries.length).toBeGreaterThanOrEqual(10);
    expect(canaries.filter((value) => exported.includes(value))).toEqual([]);
    // The GET request's span shows its path, never its query.
    const server = spansOf(viaGet.traceId).find((span) => span.kind === SERVER_SPAN);
    expect(JSON.stringify(server?.attributes)).toContain('/graphql');
    expect(JSON.stringify(server?.attributes)).not.toContain('variables');
    expect([...new Set(receiver.spans.map((span) => span.traceId))].filter((id) => !started.includes(id))).toEqual([]);
  });
});
