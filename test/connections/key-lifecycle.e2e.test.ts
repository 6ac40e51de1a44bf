import { Provider } from '../../src/catalog/catalog';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeConnection, makeMembership, makeModelSettings, makeOrganization, OrgRole } from '../support/factories';
import { KEY_PATTERN, makeTestKey, type ProviderStandIn, standInEnv, startProviderStandIn } from '../support/provider-stand-in';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * A stored key's life after it was connected: when runs and uploads last used it
 * (ProviderConnection.lastUsedAt, moved at most once a minute), and asking the provider again
 * whether it still accepts it (verifyProviderConnection).
 */

const VERIFY = `mutation($input: VerifyProviderConnectionInput!) {
  verifyProviderConnection(input: $input) { id provider status lastVerifiedAt }
}`;
const RUN_AGENT = `mutation($input: RunAgentInput!) { runAgent(input: $input) { status } }`;
const UPLOAD = `mutation($input: UploadFileInput!) { uploadFile(input: $input) { id } }`;
const CONNECTIONS = `query($id: ID!) { organization(id: $id) { providerConnections { provider status lastUsedAt lastVerifiedAt } } }`;

describe('key lifecycle', () => {
  let standIn: ProviderStandIn;
  let server: TestServer;
  const keys: string[] = [];

  beforeAll(async () => {
    standIn = await startProviderStandIn();
    server = await startTestServer(standInEnv(standIn));
  });
  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
  });
  beforeEach(() => standIn.reset());
  afterEach(() => {
    const leaked = server.logs.filter((line) => KEY_PATTERN.test(line) || keys.some((key) => line.includes(key)));
    expect(leaked).toEqual([]);
  });

  let counter = 0;
  async function tenant() {
    counter += 1;
    const organization: OrganizationEntity = await makeOrganization(server.dataSource, { name: `Keys ${counter}` });
    const admin = `keys-admin-${counter}`;
    await makeMembership(server.dataSource, organization, admin, OrgRole.ADMIN);
    const apiKey = makeTestKey('ANTHROPIC');
    keys.push(apiKey);
    standIn.acceptKeys(apiKey);
    const connection = await makeConnection(server.dataSource, organization, Provider.ANTHROPIC, apiKey);
    await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-sonnet-4-6' });
    return { organization, admin, apiKey, connectionId: connection.id };
  }

  async function connectionOf(admin: string, organizationId: string) {
    const result = await server.graphql(CONNECTIONS, { as: admin, variables: { id: organizationId } });
    expect(result.errors).toBeUndefined();
    return result.data?.organization.providerConnections[0] as { provider: string; status: string; lastUsedAt: string | null; lastVerifiedAt: string | null };
  }

  const auditOf = (organizationId: string) =>
    server.dataSource.query(`SELECT action, actor_id, before->>'status' AS before, after->>'status' AS after FROM audit_event WHERE organization_id = $1 ORDER BY position`, [
      organizationId,
    ]);

  describe('lastUsedAt', () => {
    it('is set by a run, kept by the runs of the next minute, and moved by one after it', async () => {
      const { organization, admin, connectionId } = await tenant();
      const agent = await server.graphql(`mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`, {
        as: admin,
        variables: { input: { organizationId: organization.id, name: 'Runner' } },
      });
      const runAgent = () =>
        server.graphql(RUN_AGENT, { as: admin, variables: { input: { agentId: agent.data?.createAgent.id, messages: [{ role: 'USER', content: 'Hi' }] } } });
      expect((await connectionOf(admin, organization.id)).lastUsedAt).toBeNull();

      const before = Date.now();
      expect((await runAgent()).data?.runAgent.status).toBe('SUCCEEDED');
      const first = (await connectionOf(admin, organization.id)).lastUsedAt as string;
      expect(Date.parse(first)).toBeGreaterThanOrEqual(before - 1_000);
      expect(Date.parse(first)).toBeLessThanOrEqual(Date.now() + 1_000);

      // A failed call uses the key too; within the minute the row is not written again.
      standIn.script('ANTHROPIC', { status: 500 });
      await runAgent();
      await runAgent();
      expect((await connectionOf(admin, organization.id)).lastUsedAt).toBe(first);

      await server.dataSource.query(`UPDATE provider_connection SET last_used_at = now() - interval '2 minutes' WHERE id = $1`, [connectionId]);
      await runAgent();
      expect(Date.parse((await connectionOf(admin, organization.id)).lastUsedAt as string)).toBeGreaterThanOrEqual(Date.parse(first));
      const [{ fresh }] = await server.dataSource.query(`SELECT last_used_at > now() - interval '10 seconds' AS fresh FROM provider_connection WHERE id = $1`, [connectionId]);
      expect(fresh).toBe(true);
    });

    it('is set by an upload', async () => {
      const { organization, admin } = await tenant();
      const result = await server.graphql(UPLOAD, {
        as: admin,
        variables: { input: { organizationId: organization.id, filename: 'a.csv', mimeType: 'text/csv', contentBase64: Buffer.from('a,b\n').toString('base64') } },
      });
      expect(result.errors).toBeUndefined();
      expect((await connectionOf(admin, organization.id)).lastUsedAt).toEqual(expect.any(String));
    });
  });

  describe('verifyProviderConnection', () => {
    it('marks a key the provider still accepts VERIFIED, with one key check, audited', async () => {
      const { organization, admin, apiKey } = await tenant();
      await server.dataSource.query(`UPDATE provider_connection SET status = 'INVALID', last_verified_at = NULL WHERE organization_id = $1`, [organization.id]);

      const result = await server.graphql(VERIFY, { as: admin, variables: { input: { organizationId: organization.id, provider: 'ANTHROPIC' } } });

      expect(result.errors).toBeUndefined();
      expect(result.data?.verifyProviderConnection).toMatchObject({ provider: 'ANTHROPIC', status: 'VERIFIED', lastVerifiedAt: expect.any(String) });
      expect(standIn.requests.map((request) => [request.method, request.path, request.apiKey])).toEqual([['GET', '/v1/models', apiKey]]);
      expect(await connectionOf(admin, organization.id)).toMatchObject({ status: 'VERIFIED' });
      expect(await auditOf(organization.id)).toEqual([{ action: 'PROVIDER_VERIFIED', actor_id: admin, before: 'INVALID', after: 'VERIFIED' }]);
    });

    it('marks a key the provider refuses INVALID (the mutation answers, no error), audited', async () => {
      const { organization, admin, apiKey } = await tenant();
      standIn.revokeKeys(apiKey);

      const result = await server.graphql(VERIFY, { as: admin, variables: { input: { organizationId: organization.id, provider: 'ANTHROPIC' } } });

      expect(result.errors).toBeUndefined();
      expect(result.data?.verifyProviderConnection).toMatchObject({ status: 'INVALID' });
      expect(await connectionOf(admin, organization.id)).toMatchObject({ status: 'INVALID' });
      expect(await auditOf(organization.id)).toEqual([{ action: 'PROVIDER_VERIFIED', actor_id: admin, before: 'VERIFIED', after: 'INVALID' }]);
    });

    it('answers PROVIDER_UNREACHABLE when the provider does not answer, and changes nothing', async () => {
      const { organization, admin } = await tenant();
      const before = await server.dataSource.query('SELECT * FROM provider_connection WHERE organization_id = $1', [organization.id]);
      standIn.script('ANTHROPIC', { status: 503 });

      const result = await server.graphql(VERIFY, { as: admin, variables: { input: { organizationId: organization.id, provider: 'ANTHROPIC' } } });

      expect(result.data).toBeNull();
      expect(result.errors?.map((error) => error.extensions.code)).toEqual(['PROVIDER_UNREACHABLE']);
      expect(await server.dataSource.query('SELECT * FROM provider_connection WHERE organization_id = $1', [organization.id])).toEqual(before);
      expect(await auditOf(organization.id)).toEqual([]);
    });

    it('answers NOT_FOUND for a provider the organization has not connected, asking nothing', async () => {
      const { organization, admin } = await tenant();
      const result = await server.graphql(VERIFY, { as: admin, variables: { input: { organizationId: organization.id, provider: 'OPENAI' } } });
      expect(result.errors?.map((error) => error.extensions.code)).toEqual(['NOT_FOUND']);
      expect(standIn.requests).toEqual([]);
      expect(await auditOf(organization.id)).toEqual([]);
    });
  });
});
