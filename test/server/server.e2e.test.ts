import http from 'node:http';
import { JSON_BODY_LIMIT_BYTES } from '../../src/server';
import { makeChain, makeMembership } from '../support/factories';
import { startTestServer, type TestServer } from '../support/test-server';

describe('the HTTP server', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const base = () => server.url.replace(/\/graphql$/, '');

  /** Runs `work` while a table is missing, as in a broken deployment, then puts it back. */
  async function withTableMissing<T>(table: string, work: () => Promise<T>): Promise<T> {
    await server.dataSource.query(`ALTER TABLE ${table} RENAME TO ${table}_away`);
    try {
      return await work();
    } finally {
      await server.dataSource.query(`ALTER TABLE ${table}_away RENAME TO ${table}`);
    }
  }

  describe('POST /graphql', () => {
    it('answers a POST whose target has a query string as one without, and the same by /graphql/ (Express)', async () => {
      const token = await server.token('ops', { operator: true });
      const post = (url: string) =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: '{ viewer { userId } }' }),
        }).then(async (response) => ({ status: response.status, body: await response.json() }));
      const expected = { status: 200, body: { data: { viewer: { userId: 'ops' } } } };
      expect(await post(server.url)).toEqual(expected);
      expect(await post(`${server.url}?from=a%3Fb&x=1`)).toEqual(expected);
      expect(await post(`${base()}/graphql/?x=1`)).toEqual(expected);
    });
  });

  describe('health', () => {
    it('answers /healthz while the process runs', async () => {
      const response = await fetch(`${base()}/healthz`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok' });
    });

    it('answers /readyz when the database is reachable and every migration is applied', async () => {
      const response = await fetch(`${base()}/readyz`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ready' });
    });

    it('answers /readyz with 503 while a migration this code knows is not applied', async () => {
      const [applied] = await server.dataSource.query('SELECT id, timestamp, name FROM migrations ORDER BY id DESC LIMIT 1');
      await server.dataSource.query('DELETE FROM migrations WHERE id = $1', [applied.id]);
      try {
        const response = await fetch(`${base()}/readyz`);
        expect(response.status).toBe(503);
        expect(await response.json()).toEqual({ status: 'migrations pending' });
      } finally {
        await server.dataSource.query('INSERT INTO migrations (id, timestamp, name) VALUES ($1, $2, $3)', [applied.id, applied.timestamp, applied.name]);
      }
    });
  });

  describe('request ids and logs', () => {
    it('echoes a given x-request-id and logs the request under it', async () => {
      const result = await server.graphql('{ modelCatalog { id } }', { as: 'rita', headers: { 'x-request-id': 'req-given-123' } });
      expect(result.headers.get('x-request-id')).toBe('req-given-123');
      const lines = server.logs.filter((line) => line.includes('"req-given-123"'));
      expect(lines.length).toBeGreaterThan(0);
    });

    it('makes a request id when none is given', async () => {
      const result = await server.graphql('{ modelCatalog { id } }', { as: 'rita' });
      expect(result.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('replaces a request id that is not a plain token', async () => {
      const result = await server.graphql('{ modelCatalog { id } }', { as: 'rita', headers: { 'x-request-id': 'bad id with spaces' } });
      expect(result.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('never writes the Authorization header to the logs', async () => {
      const token = await server.token('logged-user');
      await server.graphql('{ viewer { userId } }', { as: { raw: `Bearer ${token}` }, headers: { 'x-request-id': 'req-redact' } });
      const lines = server.logs.filter((line) => line.includes('"req-redact"'));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.some((line) => line.includes('[redacted]'))).toBe(true);
      expect(server.logs.some((line) => line.includes(token))).toBe(false);
    });
  });

  describe('errors', () => {
    it('masks an unexpected error to INTERNAL_SERVER_ERROR with no SQL or stack, and logs it with the request id', async () => {
      const [org] = await makeChain(server.dataSource, 1, 'Masked');
      await makeMembership(server.dataSource, org, 'masked-user');
      await withTableMissing('organization', async () => {
        const response = await fetch(server.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${await server.token('masked-user')}`,
            'x-request-id': 'req-masked',
          },
          body: JSON.stringify({ query: '{ viewer { organizations { name } } }' }),
        });
        const text = await response.text();
        const body = JSON.parse(text);
        expect(body.errors[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
        expect(text).not.toMatch(/organization_away|relation|SELECT|stacktrace|at /i);
        const logged = server.logs.filter((line) => line.includes('"req-masked"') && line.includes('unexpected error'));
        expect(logged).toHaveLength(1);
        expect(logged[0]).toContain('relation');
      });
    });

    it('reports a permission check that failed as INTERNAL_SERVER_ERROR (logged), not as FORBIDDEN', async () => {
      const [org] = await makeChain(server.dataSource, 1, 'Rule');
      await makeMembership(server.dataSource, org, 'rule-user');
      await withTableMissing('membership', async () => {
        const result = await server.graphql('query($id: ID!) { organization(id: $id) { name } }', {
          as: 'rule-user',
          variables: { id: org.id },
          headers: { 'x-request-id': 'req-rule-broken' },
        });
        expect(result.errors?.[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
        expect(server.logs.filter((line) => line.includes('"req-rule-broken"') && line.includes('unexpected error'))).toHaveLength(1);
      });
    });

    it('never logs the parameters of a failed statement', async () => {
      const [org] = await makeChain(server.dataSource, 1, 'Params');
      await makeMembership(server.dataSource, org, 'params-user');
      await withTableMissing('organization', () =>
        server.graphql('{ viewer { organizations { name } } }', { as: 'params-user', headers: { 'x-request-id': 'req-params' } }),
      );
      const logged = server.logs.filter((line) => line.includes('"req-params"') && line.includes('unexpected error'));
      expect(logged).toHaveLength(1);
      expect(logged[0]).not.toContain(org.id);
    });

    it.each([
      ['a body that is not JSON', '{"query": ', 400, 'BAD_REQUEST'],
      ['a body over the size limit', JSON.stringify({ query: '{ modelCatalog { id } }', variables: { padding: 'x'.repeat(JSON_BODY_LIMIT_BYTES + 1) } }), 413, 'BAD_REQUEST'],
    ])('answers %s with a coded JSON error and no stack', async (_case, body, status, code) => {
      const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      const text = await response.text();
      expect(JSON.parse(text).errors[0].extensions.code).toBe(code);
      expect(text).not.toMatch(/node_modules|at JSON|SyntaxError/);
    });

    it('does not suggest field names to a caller who misspells one', async () => {
      const result = await server.graphql('{ viewr { userId } }', { as: 'rita' });
      expect(result.errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(result.errors?.[0].message).not.toMatch(/did you mean/i);
    });
  });

  describe('limits', () => {
    const deep = (levels: number) => `{ viewer { organizations { ${'parent { '.repeat(levels)}id${' }'.repeat(levels)} } } }`;

    it('refuses a query nested too deep, without telling the limit', async () => {
      const result = await server.graphql(deep(20), { as: 'rita' });
      expect(result.errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(result.errors?.[0].message).not.toMatch(/\d/);
    });

    it('accepts a query of ordinary depth', async () => {
      const result = await server.graphql(deep(5), { as: 'rita' });
      expect(result.errors).toBeUndefined();
    });

    it('refuses a query with too many aliases, without telling the limit', async () => {
      const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: modelCatalog { id }`).join(' ');
      const result = await server.graphql(`{ ${aliases} }`, { as: 'rita' });
      expect(result.errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(result.errors?.[0].message).not.toMatch(/\d/);
    });

    it('refuses a document with too many tokens', async () => {
      const fields = Array.from({ length: 2_000 }, () => 'id').join(' ');
      const result = await server.graphql(`{ modelCatalog { ${fields} } }`, { as: 'rita' });
      expect(result.errors?.[0].extensions.code).toMatch(/GRAPHQL_(PARSE|VALIDATION)_FAILED/);
      expect(result.data).toBeUndefined();
    });

  });

  describe('CSRF prevention', () => {
    it('refuses a simple cross-site request (text/plain body, no preflight)', async () => {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ query: 'mutation { createOrganization(input: { name: "csrf" }) { id } }' }),
      });
      expect(response.status).toBe(400);
      expect(await response.text()).toMatch(/CSRF/i);
    });

    it('refuses a GET query without a preflight header', async () => {
      const response = await fetch(`${server.url}?query=${encodeURIComponent('{ modelCatalog { id } }')}`);
      expect(response.status).toBe(400);
    });
  });

  describe('introspection', () => {
    it('is on outside production', async () => {
      const result = await server.graphql('{ __schema { queryType { name } } }');
      expect(result.data?.__schema.queryType.name).toBe('Query');
    });
  });
});

describe('the HTTP server in production', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ NODE_ENV: 'production' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses introspection', async () => {
    const result = await server.graphql('{ __schema { queryType { name } } }');
    expect(result.errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(result.data).toBeUndefined();
  });

  it('still serves the federation SDL to the gateway', async () => {
    const result = await server.graphql('{ _service { sdl } }');
    expect(result.data?._service.sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.7"');
  });
});

describe('graceful shutdown', () => {
  it('finishes a request in flight, then refuses new connections', async () => {
    const server = await startTestServer();
    try {
      const token = await server.token('late-user');
      const body = JSON.stringify({ query: '{ viewer { userId } }' });
      const { port } = new URL(server.url);
      const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const request = http.request(
          {
            host: '127.0.0.1',
            port,
            path: '/graphql',
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) },
          },
          (response) => {
            let text = '';
            response.on('data', (chunk) => (text += chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
          },
        );
        request.on('error', reject);
        // Half the body now: the request is in flight when the server is asked to stop.
        request.write(body.slice(0, 10));
        setTimeout(() => request.end(body.slice(10)), 300);
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const stopped = server.app.stop();

      const finished = await answer;
      expect(finished.status).toBe(200);
      expect(JSON.parse(finished.text)).toEqual({ data: { viewer: { userId: 'late-user' } } });
      await stopped;
      await expect(fetch(`${server.url.replace(/\/graphql$/, '')}/healthz`)).rejects.toThrow();
    } finally {
      await server.stop();
    }
  });
});
