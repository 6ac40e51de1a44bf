import { randomBytes, randomUUID } from 'node:crypto';
import { KeyVault } from '../../src/connections/key-vault';
import { reencryptStoredKeys } from '../../src/connections/reencrypt-keys';
import { anthropicClient } from '../../src/providers/provider-clients';
import { makeMembership, makeOrganization, OrgRole } from '../support/factories';
import { makeTestKey, standInEnv, startProviderStandIn } from '../support/provider-stand-in';
import { startTestServer } from '../support/test-server';
import { graphqlPoster, ms, percentile, printTable, timed } from './support';

const CONNECT_RUNS = 300;
const STORED_KEYS = 10_000;

/**
 * connectProvider against the stand-in, beside the bare provider round trip it contains (the SDK
 * listing models with the stand-in), measured in the same run.
 */
export async function benchConnect(): Promise<void> {
  const standIn = await startProviderStandIn();
  const server = await startTestServer({ LOG_LEVEL: 'warn', ...standInEnv(standIn) });
  try {
    const organization = await makeOrganization(server.dataSource, { name: 'Bench' });
    await makeMembership(server.dataSource, organization, 'bench-admin', OrgRole.ADMIN);
    const token = await server.token('bench-admin');
    const keys = Array.from({ length: CONNECT_RUNS + 20 }, () => makeTestKey('ANTHROPIC'));
    standIn.acceptKeys(...keys);
    const graphql = graphqlPoster(server.url, token);
    const connect = (apiKey: string) =>
      graphql('mutation($input: ConnectProviderInput!) { connectProvider(input: $input) { id status } }', {
        input: { organizationId: organization.id, provider: 'ANTHROPIC', apiKey },
      });
    const read = () => graphql('query($id: ID!) { organization(id: $id) { providerConnections { id keyHint } } }', { id: organization.id });
    const roundTrip = (apiKey: string) => anthropicClient(apiKey, { anthropicBaseUrl: standIn.anthropicBaseUrl, openaiBaseUrl: undefined }, 5_000).models.list({ limit: 1 });

    // Warm both paths (JIT, connection pools), then alternate them so both see the same machine.
    for (const apiKey of keys.slice(0, 20)) {
      await connect(apiKey);
      await roundTrip(apiKey);
      await read();
    }
    const connectTimes: number[] = [];
    const checkTimes: number[] = [];
    const readTimes: number[] = [];
    for (const apiKey of keys.slice(20)) {
      connectTimes.push(await timed(() => connect(apiKey)));
      checkTimes.push(await timed(() => roundTrip(apiKey)));
      readTimes.push(await timed(read));
    }
    for (const times of [connectTimes, checkTimes, readTimes]) times.sort((a, b) => a - b);
    const rows = (
      [
        ['connectProvider over HTTP (a rotation: check, encrypt, update, audit)', connectTimes],
        ['the key check alone (SDK models.list against the stand-in)', checkTimes],
        ['reading providerConnections over HTTP (no write)', readTimes],
      ] as const
    ).map(([label, times]) => [label, ms(percentile(times, 50)), ms(percentile(times, 99)), String(times.length)]);
    printTable(`connectProvider against the provider stand-in (${CONNECT_RUNS} sequential calls each)`, ['', 'p50', 'p99', 'calls'], rows);
    process.stdout.write(
      `connectProvider p50 minus the check's p50: ${ms(percentile(connectTimes, 50) - percentile(checkTimes, 50))} (GraphQL, auth, one transaction)\n`,
    );
  } finally {
    await server.stop();
    await standIn.close();
  }
}

/** Re-encrypting 10,000 stored keys from an old encryption key to a new one, in batches. */
export async function benchReencrypt(): Promise<void> {
  const server = await startTestServer({ LOG_LEVEL: 'warn' });
  try {
    const oldKey = { id: 'old', key: randomBytes(32) };
    const old = new KeyVault([oldKey]);
    const ring = new KeyVault([{ id: 'new', key: randomBytes(32) }, oldKey]);
    const organizations: { id: string }[] = await server.dataSource.query(
      `INSERT INTO organization (name) SELECT 'Org ' || n FROM generate_series(1, $1) AS n RETURNING id`,
      [STORED_KEYS / 2],
    );
    const rows = organizations.flatMap(({ id: organizationId }) =>
      (['ANTHROPIC', 'OPENAI'] as const).map((provider) => {
        const id = randomUUID();
        return { id, organizationId, provider, sealed: old.encrypt(makeTestKey(provider), { organizationId, connectionId: id, provider }) };
      }),
    );
    await server.dataSource.query(
      `INSERT INTO provider_connection (id, organization_id, provider, encrypted_key, key_hint, status)
       SELECT id, organization_id, provider::provider, encrypted_key, '…test', 'VERIFIED'
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) AS r (id, organization_id, provider, encrypted_key)`,
      [rows.map((r) => r.id), rows.map((r) => r.organizationId), rows.map((r) => r.provider), rows.map((r) => r.sealed)],
    );

    const started = performance.now();
    const report = await reencryptStoredKeys(server.dataSource, ring);
    const elapsed = performance.now() - started;
    const again = performance.now();
    const second = await reencryptStoredKeys(server.dataSource, ring);
    const rerun = performance.now() - again;

    printTable(`Re-encrypting ${STORED_KEYS.toLocaleString('en')} stored keys under a new encryption key`, ['', 'keys', 'batches', 'time', 'keys/s'], [
      ['first run', String(report.moved), String(report.batches), ms(elapsed), String(Math.round(report.moved / (elapsed / 1000)))],
      ['second run (nothing left)', String(second.moved), String(second.batches), ms(rerun), '-'],
    ]);
    if (report.moved !== STORED_KEYS || report.failed.length > 0 || second.moved !== 0) throw new Error('re-encryption did not move every key exactly once');
  } finally {
    await server.stop();
  }
}
