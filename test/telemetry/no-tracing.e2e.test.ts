import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signDevToken } from '../../src/auth/dev-token';
import { type BuiltServer, startBuiltServer } from '../support/built-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver';
import { TEST_JWT_SECRET } from '../support/test-server';

/**
 * Without OTEL_* variables the service starts nothing of OpenTelemetry and hooks nothing: checked
 * in the built service's own process (a preloaded probe reports), beside the same service with
 * an OTLP endpoint, which shows what the probe sees when tracing runs.
 */

interface Probe {
  modules: string[];
  globals: string[];
  requireHooked: boolean;
}

describe('without OTEL_* variables', () => {
  let database: TestDatabase;
  let receiver: OtlpReceiver;
  let directory: string;
  const probe = path.join(__dirname, '../support/telemetry-probe.js');

  beforeAll(async () => {
    database = await createTestDatabase();
    receiver = await startOtlpReceiver();
    directory = mkdtempSync(path.join(os.tmpdir(), 'byom-probe-'));
  });
  afterAll(async () => {
    await database?.drop();
    await receiver?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  async function probed(name: string, env: Record<string, string>): Promise<Probe> {
    const file = path.join(directory, `${name}.json`);
    const service: BuiltServer = await startBuiltServer(database.url, { ...env, TELEMETRY_PROBE_FILE: file, DATABASE_CONNECT_TIMEOUT_MS: '10000' }, {
      nodeArgs: ['-r', probe],
      poolSize: database.poolSize,
    });
    try {
      const token = await signDevToken(TEST_JWT_SECRET, { sub: 'probe' });
      const response = await fetch(service.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
        body: JSON.stringify({ query: '{ modelCatalog { id } viewer { organizations { id } } }' }),
      });
      expect(response.status).toBe(200);
      service.child.kill('SIGUSR2');
      for (let tries = 0; tries < 100 && !existsSync(file); tries += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      return JSON.parse(readFileSync(file, 'utf8')) as Probe;
    } finally {
      await service.stop();
    }
  }

  it('loads no OpenTelemetry SDK, instrumentation or exporter, registers nothing with its API and hooks no require', async () => {
    const off = await probed('off', {});

    // OpenTelemetry's API alone, the no-op facade that prom-client's process metrics require
    // (as the Anthropic SDK does once a provider is called): nothing of it is registered.
    expect(off.modules.filter((file) => !file.includes('/node_modules/@opentelemetry/api/'))).toEqual([]);
    expect(off.globals).toEqual([]);
    expect(off.requireHooked).toBe(false);
  });

  it('while with an OTLP endpoint the same probe sees the SDK, its registrations and its hooks', async () => {
    const on = await probed('on', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });

    expect(on.modules.some((file) => file.includes('/@opentelemetry/sdk-trace-node/'))).toBe(true);
    expect(on.modules.some((file) => file.includes('/@opentelemetry/exporter-trace-otlp-http/'))).toBe(true);
    expect(on.globals).toEqual(expect.arrayContaining(['trace', 'context', 'propagation']));
    expect(on.requireHooked).toBe(true);
  });
});
