import { Provider } from '../../src/catalog/catalog';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { UPLOAD_MAX_BYTES } from '../../src/uploads/file-upload.service';
import { makeModelSettings, tenantMaker } from '../support/factories';
import { makeTestKey, type ProviderStandIn, standInEnv, startProviderStandIn } from '../support/provider-stand-in';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * File uploads for Claude: through the organization's own Anthropic account when BYOM is active
 * for Anthropic, else through the platform's, over real HTTP against the provider stand-in.
 */

const PLATFORM_ANTHROPIC_KEY = makeTestKey('ANTHROPIC');
const UPLOAD = `mutation($input: UploadFileInput!) { uploadFile(input: $input) { id provider billing owner { id } } }`;
const CSV = Buffer.from('name,amount\nwidget,3\n');

describe('uploadFile', () => {
  let standIn: ProviderStandIn;
  let server: TestServer;

  beforeAll(async () => {
    standIn = await startProviderStandIn({ acceptKeys: [PLATFORM_ANTHROPIC_KEY] });
    server = await startTestServer(standInEnv(standIn, { platformAnthropicKey: PLATFORM_ANTHROPIC_KEY }));
  });
  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
  });
  beforeEach(() => standIn.reset());

  const tenant = tenantMaker(() => server.dataSource, 'Uploads', (apiKey) => standIn.acceptKeys(apiKey));

  const upload = (as: string, organization: OrganizationEntity, overrides: Record<string, unknown> = {}) =>
    server.graphql(UPLOAD, {
      as,
      variables: { input: { organizationId: organization.id, filename: 'orders.csv', mimeType: 'text/csv', contentBase64: CSV.toString('base64'), ...overrides } },
    });
  const uploads = () => standIn.requests.filter((request) => request.path === '/v1/files');

  it('goes through the organization\'s own Anthropic key when it has BYOM settings with Anthropic', async () => {
    const { organization, member, keyOf } = await tenant({ providers: [Provider.ANTHROPIC] });
    await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-sonnet-4-6' });

    const result = await upload(member, organization);

    expect(result.errors).toBeUndefined();
    expect(result.data?.uploadFile).toEqual({ id: expect.stringMatching(/^file_/), provider: 'ANTHROPIC', billing: 'PROVIDER_ACCOUNT', owner: { id: organization.id } });
    expect(uploads().map((request) => [request.apiKey, request.body])).toEqual([
      [keyOf.ANTHROPIC, { filename: 'orders.csv', mimeType: 'text/csv', sizeBytes: CSV.length }],
    ]);
  });

  it('goes through its own Anthropic key when Anthropic is connected but its pair is OpenAI\'s', async () => {
    const { organization, member, keyOf } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });
    await makeModelSettings(server.dataSource, organization, { primaryModelId: 'gpt-5.4' });

    const result = await upload(member, organization);

    expect(result.data?.uploadFile.billing).toBe('PROVIDER_ACCOUNT');
    expect(uploads().map((request) => request.apiKey)).toEqual([keyOf.ANTHROPIC]);
  });

  it('goes through the giver\'s Anthropic key when the inherited pair has an Anthropic model', async () => {
    const giver = await tenant({ providers: [Provider.ANTHROPIC] });
    await makeModelSettings(server.dataSource, giver.organization, { primaryModelId: 'claude-opus-4-6', offerToSubOrganizations: true });
    const { organization, member } = await tenant({ parent: giver.organization, providers: [Provider.ANTHROPIC] });

    const result = await upload(member, organization);

    expect(result.data?.uploadFile).toMatchObject({ billing: 'PROVIDER_ACCOUNT', owner: { id: giver.organization.id } });
    expect(uploads().map((request) => request.apiKey)).toEqual([giver.keyOf.ANTHROPIC]);
  });

  it('goes through the platform\'s key without BYOM settings for Anthropic', async () => {
    const { organization, member } = await tenant({ providers: [Provider.ANTHROPIC] });

    const result = await upload(member, organization);

    expect(result.data?.uploadFile).toMatchObject({ billing: 'PLATFORM_CREDITS', owner: null });
    expect(uploads().map((request) => request.apiKey)).toEqual([PLATFORM_ANTHROPIC_KEY]);
  });

  it('refuses an exclusive organization without an Anthropic account, never using the platform\'s', async () => {
    const { organization, member } = await tenant({ providers: [Provider.OPENAI] });
    await makeModelSettings(server.dataSource, organization, { primaryModelId: 'gpt-5.4', exclusive: true });

    const result = await upload(member, organization);

    expect(result.data).toBeNull();
    expect(result.errors?.[0].extensions).toMatchObject({ code: 'MODEL_NOT_AVAILABLE', provider: 'ANTHROPIC' });
    expect(standIn.requests).toEqual([]);
  });

  it('answers INVALID_API_KEY when Anthropic refuses the organization\'s key, and marks the connection INVALID', async () => {
    const { organization, member, keyOf } = await tenant({ providers: [Provider.ANTHROPIC] });
    await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-haiku-4-5' });
    standIn.revokeKeys(keyOf.ANTHROPIC as string);

    const result = await upload(member, organization);

    expect(result.errors?.[0].extensions).toMatchObject({ code: 'INVALID_API_KEY', provider: 'ANTHROPIC', httpStatus: 401 });
    expect(await server.dataSource.query('SELECT status FROM provider_connection WHERE organization_id = $1', [organization.id])).toEqual([{ status: 'INVALID' }]);
  });

  it('answers PROVIDER_UNREACHABLE when Anthropic is down', async () => {
    const { organization, member } = await tenant();
    standIn.script('ANTHROPIC', { status: 503 });

    const result = await upload(member, organization);

    expect(result.errors?.[0].extensions).toMatchObject({ code: 'PROVIDER_UNREACHABLE', httpStatus: 503 });
  });

  describe('refuses bad files with BAD_USER_INPUT before anything is sent', () => {
    it.each([
      ['content that is not base64', { contentBase64: 'not base64!' }, 'input.contentBase64'],
      ['base64 with a broken length', { contentBase64: 'YWJj=' }, 'input.contentBase64'],
      ['an empty file', { contentBase64: '' }, 'input.contentBase64'],
      ['a file over 10 MiB', { contentBase64: Buffer.alloc(UPLOAD_MAX_BYTES + 1).toString('base64') }, 'input.contentBase64'],
      ['a filename with a path', { filename: '../etc/passwd' }, 'input.filename'],
      ['a blank filename', { filename: ' ' }, 'input.filename'],
      ['a mime type that is not one', { mimeType: 'csv' }, 'input.mimeType'],
    ])('%s', async (_case, overrides, field) => {
      const { organization, member } = await tenant();

      const result = await upload(member, organization, overrides);

      expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(standIn.requests).toEqual([]);
    });

    it('accepts a file of exactly 10 MiB', async () => {
      const { organization, member } = await tenant();

      const result = await upload(member, organization, { contentBase64: Buffer.alloc(UPLOAD_MAX_BYTES, 1).toString('base64'), mimeType: 'application/octet-stream' });

      expect(result.errors).toBeUndefined();
      expect(uploads()[0].body).toMatchObject({ sizeBytes: UPLOAD_MAX_BYTES });
    });
  });
});
