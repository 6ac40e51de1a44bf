import type { QueryRunner } from 'typeorm';
import { poolOf } from '../../src/database/data-source';
import { makeChain, makeMembership } from '../support/factories';
import { serverUrl } from '../support/database';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * While every pooled connection is taken (requests holding them), a request waits at most the
 * connect timeout and gets SERVICE_UNAVAILABLE, and /readyz answers within about a second. On
 * PostgreSQL readiness has a connection of its own and stays ready; the embedded database serves
 * one connection at a time, so its readiness goes through the pool and says it timed out.
 */
describe('a pool whose every connection is taken', () => {
  let server: TestServer;
  let memberToken: string;
  const onServer = Boolean(serverUrl());

  beforeAll(async () => {
    server = await startTestServer({ DATABASE_CONNECT_TIMEOUT_MS: '500', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '10000' });
    const [organization] = await makeChain(server.dataSource, 1, 'Stuck');
    await makeMembership(server.dataSource, organization, 'stuck-member');
    memberToken = await server.token('stuck-member');
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function timed(url: string, init: RequestInit = {}) {
    const started = performance.now();
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json(), ms: performance.now() - started };
  }

  it(`keeps requests to the connect timeout and /readyz to a second (${onServer ? 'PostgreSQL: still ready' : 'embedded: "database timed out"'})`, async () => {
    const size = (poolOf(server.dataSource) as unknown as { options: { max: number } }).options.max;
    const runners: QueryRunner[] = [];
    for (let i = 0; i < size; i += 1) {
      const runner = server.dataSource.createQueryRunner();
      await runner.connect();
      runners.push(runner);
    }
    try {
      const [request, readiness] = await Promise.all([
        timed(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${memberToken}` },
          body: JSON.stringify({ query: '{ viewer { organizations { name } } }' }),
        }),
        timed(server.url.replace(/\/graphql$/, '/readyz')),
      ]);
      expect(request).toMatchObject({ status: 503, retryAfter: '1' });
      expect(request.body.errors.map((error: { extensions: { code: string } }) => error.extensions.code)).toEqual(['SERVICE_UNAVAILABLE']);
      expect(request.ms).toBeLessThan(1_500);
      if (onServer) {
        expect(readiness).toMatchObject({ status: 200, body: { status: 'ready' } });
        expect(readiness.ms).toBeLessThan(500);
      } else {
        expect(readiness).toMatchObject({ status: 503, body: { status: 'database timed out' } });
        expect(readiness.ms).toBeLessThan(1_500);
      }
    } finally {
      for (const runner of runners) await runner.release();
    }
    const ready = await timed(server.url.replace(/\/graphql$/, '/readyz'));
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready' } });
  });
});
