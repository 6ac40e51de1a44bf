import http from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { ANONYMOUS_BODY_LIMIT_BYTES, JSON_MAX_DEPTH } from '../../src/http-limits';
import { JSON_BODY_LIMIT_BYTES } from '../../src/server';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * What a hostile or careless client may cost (DESIGN.md section 10), over real HTTP on loopback;
 * every loop is bounded in count and time.
 */
interface RawAnswer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** A POST whose headers say what the test wants (a length it never sends, an encoding). */
function post(url: string, headers: Record<string, string>, body?: Buffer | string, { sendBody = true } = {}): Promise<RawAnswer> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: hostname, port, path: pathname, method: 'POST', headers }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text, headers: response.headers }));
    });
    request.on('error', reject);
    if (body !== undefined && sendBody) request.end(body);
    else if (body !== undefined) request.write(body.slice(0, 100));
    else request.end();
  });
}

const codeOf = (answer: RawAnswer) => JSON.parse(answer.body).errors[0].extensions.code;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('request limits', () => {
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer({ HTTP_HEADERS_TIMEOUT_MS: '1000' });
    token = await server.token('limits-user');
  });
  afterAll(async () => {
    await server?.stop();
  });

  const base = () => server.url.replace(/\/graphql$/, '');
  // Variables the document does not declare are carried and ignored: padding.
  const query = (padding: string) => JSON.stringify({ query: '{ viewer { userId } }', variables: { p: padding } });

  describe('bodies', () => {
    it('refuses an anonymous body declared over 64 KiB with 413 before it is sent', async () => {
      const answer = await post(
        server.url,
        { 'content-type': 'application/json', 'content-length': String(ANONYMOUS_BODY_LIMIT_BYTES + 1) },
        'x'.repeat(ANONYMOUS_BODY_LIMIT_BYTES + 1),
        { sendBody: false },
      );
      expect(answer.status).toBe(413);
      expect(codeOf(answer)).toBe('BAD_REQUEST');
    });

    it('refuses an anonymous chunked body past 64 KiB with 413', async () => {
      const answer = await post(server.url, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, query('x'.repeat(ANONYMOUS_BODY_LIMIT_BYTES)));
      expect(answer.status).toBe(413);
    });

    it('takes as much as an upload needs from a caller with a valid token', async () => {
      const answer = await post(server.url, { 'content-type': 'application/json', authorization: `Bearer ${token}` }, query('x'.repeat(2 * 1024 * 1024)));
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ data: { viewer: { userId: 'limits-user' } } });
    });

    it('refuses an anonymous gzip body that inflates past 64 KiB, having inflated no more than that', async () => {
      const bomb = gzipSync(query('0'.repeat(14 * 1024 * 1024)));
      expect(bomb.length).toBeLessThan(20 * 1024);
      const answer = await post(server.url, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, bomb);
      expect(answer.status).toBe(413);
    });

    it('refuses a gzip body from a caller with a token once it inflates past the upload limit', async () => {
      const bomb = gzipSync(query('0'.repeat(JSON_BODY_LIMIT_BYTES + 1)));
      const answer = await post(server.url, { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${token}` }, bomb);
      expect(answer.status).toBe(413);
    });

    it('refuses JSON nested deeper than the limit with 400, and takes ordinary nesting', async () => {
      const nested = (depth: number) => `{"query":"{ viewer { userId } }","variables":{"p":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
      const deep = await post(server.url, { 'content-type': 'application/json', authorization: `Bearer ${token}` }, nested(JSON_MAX_DEPTH + 1));
      expect(deep.status).toBe(400);
      expect(JSON.parse(deep.body).errors[0]).toEqual({ message: 'The request body nests too deep', extensions: { code: 'BAD_REQUEST' } });
      // 13.6 KB of gzip that inflates to millions of brackets is refused as fast.
      const bomb = gzipSync(nested(1_000_000));
      const refused = await post(server.url, { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${token}` }, bomb);
      expect(refused.status).toBe(400);
      const fine = await post(server.url, { 'content-type': 'application/json', authorization: `Bearer ${token}` }, nested(10));
      expect(fine.status).toBe(200);
    });

    it('holds little of many anonymous oversized bodies sent at once', async () => {
      // The default header timeout: this file's 1 s one can run out for some of 100 connections
      // opened at once on a busy machine (408), before their bodies are refused.
      const roomy = await startTestServer();
      try {
        await oversizedBodiesAtOnce(roomy);
      } finally {
        await roomy.stop();
      }
    }, 60_000);
  });

  /** 100 clients, each streaming 4 MB without a declared length: each is cut at 64 KiB. */
  async function oversizedBodiesAtOnce(target: TestServer): Promise<void> {
    const before = process.memoryUsage().rss;
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    const answers = await Promise.all(
      Array.from({ length: 100 }, () =>
        new Promise<number>((resolve, reject) => {
          const { hostname, port, pathname } = new URL(target.url);
          const request = http.request({ host: hostname, port, path: pathname, method: 'POST', headers: { 'content-type': 'application/json' } }, (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
          });
          request.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' || (error as NodeJS.ErrnoException).code === 'EPIPE' ? resolve(413) : reject(error)));
          let sent = 0;
          const more = () => {
            while (sent < 16) {
              sent += 1;
              if (!request.write(chunk)) return void request.once('drain', more);
            }
            request.end();
          };
          more();
        }),
      ),
    );
    expect(answers.filter((status) => status !== 413)).toEqual([]);
    // The bodies together were 400 MB; what the server holds of them is a few MB (the rest is noise).
    expect(process.memoryUsage().rss - before).toBeLessThan(150 * 1024 * 1024);
  }

  describe('malformed requests', () => {
    it('answers a GraphQL syntax error with 400 and logs no error', async () => {
      const lines = server.logs.length;
      const answer = await post(server.url, { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': 'syntax-1' }, JSON.stringify({ query: '{ viewer { userId ' }));
      expect(answer.status).toBe(400);
      expect(codeOf(answer)).toBe('GRAPHQL_PARSE_FAILED');
      const logged = server.logs.slice(lines).filter((line) => line.includes('syntax-1'));
      expect(logged.some((line) => /"level":(50|60)/.test(line))).toBe(false);
    });
  });

  describe('connections', () => {
    it('answers /healthz while 200 slow clients hold their sockets, and closes theirs after the header timeout', async () => {
      const { hostname, port } = new URL(server.url);
      const sockets = await Promise.all(
        Array.from({ length: 200 }, () =>
          new Promise<net.Socket>((resolve, reject) => {
            const socket = net.connect(Number(port), hostname, () => {
              // Headers that never end.
              socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nX-Slow: ');
              resolve(socket);
            });
            socket.on('error', () => undefined);
            socket.once('error', reject);
            // Read what the server sends (its 408), so that its close is seen.
            socket.resume();
          }),
        ),
      );
      const closed = sockets.map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
      try {
        const health = await fetch(`${base()}/healthz`);
        expect(health.status).toBe(200);
        // The header timeout is 1 s here (HTTP_HEADERS_TIMEOUT_MS), checked every second.
        const allClosed = await Promise.race([Promise.all(closed).then(() => true), sleep(5_000).then(() => false)]);
        expect(allClosed).toBe(true);
      } finally {
        for (const socket of sockets) socket.destroy();
      }
    }, 20_000);

    it('refuses connections beyond the cap at once, and serves again when they go', async () => {
      const capped = await startTestServer({ HTTP_MAX_CONNECTIONS: '50' });
      const { hostname, port } = new URL(capped.url);
      const sockets: net.Socket[] = [];
      let closed = 0;
      try {
        for (let i = 0; i < 70; i++) {
          const socket = net.connect(Number(port), hostname);
          socket.on('error', () => undefined);
          socket.on('close', () => (closed += 1));
          socket.resume();
          sockets.push(socket);
        }
        await sleep(500);
        expect(closed).toBe(20);
        for (const socket of sockets) socket.destroy();
        await sleep(200);
        expect((await fetch(capped.url.replace(/\/graphql$/, '/healthz'))).status).toBe(200);
      } finally {
        for (const socket of sockets) socket.destroy();
        await capped.stop();
      }
    }, 30_000);
  });

  describe('logs', () => {
    it('show only allow-listed headers: no other header value reaches a log line', async () => {
      const canary = 'canary-7d1c9b3e';
      await post(
        server.url,
        {
          'content-type': 'application/json',
          'x-request-id': 'headers-1',
          'user-agent': 'limits-test/1.0',
          authorization: `Bearer ${token}`,
          'proxy-authorization': `Basic ${canary}`,
          'x-api-key': canary,
          'router-authorization': canary,
          cookie: `session=${canary}`,
          'x-custom': canary,
        },
        JSON.stringify({ query: '{ viewer { userId } }' }),
      );
      const lines = server.logs.filter((line) => line.includes('headers-1'));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.join('\n')).toContain('limits-test/1.0');
      expect(server.logs.join('\n')).not.toContain(canary);
      expect(server.logs.join('\n')).not.toContain(token);
    });
  });
});

describe('the router secret', () => {
  let server: TestServer;
  const secret = 'router-secret-for-tests-0123456789';
  beforeAll(async () => {
    server = await startTestServer({ ROUTER_SECRET: secret });
  });
  afterAll(async () => {
    await server?.stop();
  });
  const base = () => server.url.replace(/\/graphql$/, '');

  it('refuses a GraphQL request without it, or with a wrong one, with 401 before reading the body', async () => {
    for (const headers of [{}, { 'router-authorization': 'wrong' }, { 'router-authorization': `${secret}x` }] as Record<string, string>[]) {
      const answer = await post(server.url, { 'content-type': 'application/json', 'content-length': '10000000', ...headers }, 'x', { sendBody: false });
      expect(answer.status).toBe(401);
      expect(codeOf(answer)).toBe('UNAUTHENTICATED');
    }
  });

  it('lets the router in', async () => {
    const result = await server.graphql('{ viewer { userId } }', { as: 'routed', headers: { 'router-authorization': secret } });
    expect(result.data).toEqual({ viewer: { userId: 'routed' } });
  });

  it('leaves the health routes open', async () => {
    expect((await fetch(`${base()}/healthz`)).status).toBe(200);
    expect((await fetch(`${base()}/readyz`)).status).toBe(200);
  });
});
