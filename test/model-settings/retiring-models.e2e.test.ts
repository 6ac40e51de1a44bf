import { Provider } from '../../src/catalog/catalog';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeModelSettings, tenantMaker } from '../support/factories';
import { type ProviderStandIn, standInEnv, startProviderStandIn } from '../support/provider-stand-in';
import { RETIRED_MODEL, RETIRING_MODEL, routingTestCatalog, TestClock } from '../support/routing';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * Retiring models (DESIGN.md section 7), with a catalog holding a retired model (claude-sonnet-4-5,
 * successor claude-sonnet-4-6) and one retiring in 30 days (gpt-4.1, successor gpt-5.4), and a
 * clock the test moves past that date.
 */

const DAY = 86_400_000;
const UPDATE = `mutation($input: UpdateModelSettingsInput!) {
  updateModelSettings(input: $input) { settings { primaryModel { id } version } warnings notices { code message model { id } capability } }
}`;
const RUN_AGENT = `mutation($input: RunAgentInput!) { runAgent(input: $input) {
  status attempts { model { id } outcome reason } servedBy { model { id } }
} }`;

describe('retiring models', () => {
  let standIn: ProviderStandIn;
  let server: TestServer;
  const clock = new TestClock();

  beforeAll(async () => {
    standIn = await startProviderStandIn();
    server = await startTestServer(standInEnv(standIn), { routing: { clock, catalog: routingTestCatalog(clock.now()) } });
  });
  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
  });
  beforeEach(() => standIn.reset());

  const newTenant = tenantMaker(() => server.dataSource, 'Retiring', (apiKey) => standIn.acceptKeys(apiKey));
  const tenant = () => newTenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });

  const update = (as: string, input: Record<string, unknown>) => server.graphql(UPDATE, { as, variables: { input } });
  const settingsRow = (organization: OrganizationEntity) =>
    server.dataSource.query('SELECT primary_model_id, fallback_model_id, version FROM model_settings WHERE organization_id = $1', [organization.id]);

  it('shows retiresAt and successor in the catalog, null where nothing is announced', async () => {
    const result = await server.graphql('{ modelCatalog { id retiresAt successor { id } } }', { as: 'anyone' });
    expect(result.errors).toBeUndefined();
    const byId = new Map((result.data?.modelCatalog as { id: string; retiresAt: string | null; successor: { id: string } | null }[]).map((model) => [model.id, model]));
    expect(byId.get(RETIRED_MODEL)).toEqual({ id: RETIRED_MODEL, retiresAt: new Date(clock.now() - 10 * DAY).toISOString(), successor: { id: 'claude-sonnet-4-6' } });
    expect(byId.get(RETIRING_MODEL)).toEqual({ id: RETIRING_MODEL, retiresAt: new Date(clock.now() + 30 * DAY).toISOString(), successor: { id: 'gpt-5.4' } });
    expect(byId.get('claude-sonnet-4-6')).toEqual({ id: 'claude-sonnet-4-6', retiresAt: null, successor: null });
  });

  it('saves settings that pin a model retiring within 90 days, with a MODEL_RETIRING notice naming it', async () => {
    const { organization, admin } = await tenant();
    const result = await update(admin, { organizationId: organization.id, primaryModelId: RETIRING_MODEL, fallbackModelId: 'claude-sonnet-4-6' });
    expect(result.errors).toBeUndefined();
    expect(result.data?.updateModelSettings.settings).toEqual({ primaryModel: { id: RETIRING_MODEL }, version: 1 });
    const retiresOn = new Date(clock.now() + 30 * DAY).toISOString().slice(0, 10);
    expect(result.data?.updateModelSettings.notices).toEqual([
      {
        code: 'MODEL_RETIRING',
        message: `The primary model ${RETIRING_MODEL} retires on ${retiresOn}; its successor is gpt-5.4.`,
        model: { id: RETIRING_MODEL },
        capability: null,
      },
    ]);
    expect(result.data?.updateModelSettings.warnings).toEqual([`The primary model ${RETIRING_MODEL} retires on ${retiresOn}; its successor is gpt-5.4.`]);
  });

  it('refuses to pin a retired model, as primary or fallback, with BAD_USER_INPUT naming its successor, and stores nothing', async () => {
    const { organization, admin } = await tenant();
    for (const [input, field] of [
      [{ primaryModelId: RETIRED_MODEL }, 'primaryModelId'],
      [{ primaryModelId: 'gpt-5.4', fallbackModelId: RETIRED_MODEL }, 'fallbackModelId'],
    ] as const) {
      const result = await update(admin, { organizationId: organization.id, ...input });
      expect(result.data).toBeNull();
      expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field, model: RETIRED_MODEL, successor: 'claude-sonnet-4-6' });
    }
    expect(await settingsRow(organization)).toEqual([]);
    const pinnable = await server.graphql('query($id: ID!) { organization(id: $id) { pinnableModels { id } } }', { as: admin, variables: { id: organization.id } });
    const ids = (pinnable.data?.organization.pinnableModels as { id: string }[]).map((model) => model.id);
    expect(ids).toContain(RETIRING_MODEL);
    expect(ids).not.toContain(RETIRED_MODEL);
  });

  it('refuses to pin an agent to a retired model', async () => {
    const { organization, admin } = await tenant();
    const created = await server.graphql(`mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`, {
      as: admin,
      variables: { input: { organizationId: organization.id, name: 'Old', model: RETIRED_MODEL } },
    });
    expect(created.data).toBeNull();
    expect(created.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'model', model: RETIRED_MODEL });
    expect(await server.dataSource.query('SELECT id FROM agent WHERE organization_id = $1', [organization.id])).toEqual([]);
  });

  describe('once a pinned model retires', () => {
    it('reports the agent\'s model unavailable, passes the model over (MODEL_RETIRED) and lets the fallback serve; without a fallback the run is MODEL_NOT_AVAILABLE', async () => {
      const { organization, admin } = await tenant();
      await makeModelSettings(server.dataSource, organization, { primaryModelId: RETIRING_MODEL, fallbackModelId: 'claude-sonnet-4-6' });
      const created = await server.graphql(`mutation($input: CreateAgentInput!) { createAgent(input: $input) { id model { model { id } } modelAvailable } }`, {
        as: admin,
        variables: { input: { organizationId: organization.id, name: 'Pinned' } },
      });
      expect(created.data?.createAgent).toMatchObject({ model: { model: { id: RETIRING_MODEL } }, modelAvailable: true });
      const agentId = created.data?.createAgent.id as string;

      clock.advance(31 * DAY);
      try {
        const agent = await server.graphql('query($id: ID!) { agent(id: $id) { model { model { id } } modelAvailable } }', { as: admin, variables: { id: agentId } });
        expect(agent.data?.agent).toEqual({ model: { model: { id: RETIRING_MODEL } }, modelAvailable: false });

        const run = await server.graphql(RUN_AGENT, { as: admin, variables: { input: { agentId, messages: [{ role: 'USER', content: 'Hi' }] } } });
        expect(run.errors).toBeUndefined();
        expect(run.data?.runAgent).toEqual({
          status: 'SUCCEEDED',
          attempts: [
            { model: { id: RETIRING_MODEL }, outcome: 'SKIPPED', reason: 'MODEL_RETIRED' },
            { model: { id: 'claude-sonnet-4-6' }, outcome: 'SUCCEEDED', reason: null },
          ],
          servedBy: { model: { id: 'claude-sonnet-4-6' } },
        });
        expect(standIn.requests.filter((request) => request.path !== '/v1/models').map((request) => request.model)).toEqual(['claude-sonnet-4-6']);

        await server.dataSource.query('UPDATE model_settings SET fallback_model_id = NULL WHERE organization_id = $1', [organization.id]);
        standIn.requests.length = 0;
        const alone = await server.graphql(RUN_AGENT, { as: admin, variables: { input: { agentId, messages: [{ role: 'USER', content: 'Hi' }] } } });
        expect(alone.data).toBeNull();
        expect(alone.errors?.[0].extensions).toMatchObject({ code: 'MODEL_NOT_AVAILABLE', model: RETIRING_MODEL, successor: 'gpt-5.4' });
        expect(standIn.requests).toEqual([]);
      } finally {
        clock.advance(-31 * DAY);
      }
    });
  });
});
