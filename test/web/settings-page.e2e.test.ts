import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { signDevToken } from '../../src/auth/dev-token';
import { CHROMIUM, CHROMIUM_ARGS, describeInBrowser as describeInBrowserFor, haveChromium } from '../support/chromium';
import { type BuiltServer, startBuiltServer } from '../support/built-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeTestKey, type ProviderStandIn, standInEnv, startProviderStandIn } from '../support/provider-stand-in';
import { TEST_JWT_SECRET } from '../support/test-server';

/**
 * The Models settings page (DESIGN.md section 12) in Debian's Chromium, against the built service
 * (`node dist/src/main.js`, as `npm start` runs it) on a real database, with the provider
 * stand-in answering key checks. Each flow is asserted on the screen and on what the API answers
 * afterwards. Screenshots of the main states go to test/.screenshots (not committed).
 *
 *   Acme          acme-admin, acme-admin-2 (ADMIN), acme-member (MEMBER)
 *   └── Acme EU   eu-member (MEMBER)
 *   Globex        globex-admin (ADMIN)              (no sub-organizations)
 *   `outsider`: a valid token, no membership.
 */

const ROOT = path.join(__dirname, '../..');
const STEP_MS = 10_000;
export const SCREENSHOTS = path.join(ROOT, 'test', '.screenshots');

const describeInBrowser = describeInBrowserFor('the settings page tests');

/** The built service, as `npm start` runs it, on the test database, with the stand-in for the providers. */
async function startService(database: TestDatabase, standIn: ProviderStandIn): Promise<BuiltServer> {
  return startBuiltServer(
    database.url,
    // A loaded machine (the suite runs two files at a time) may take a while to connect.
    { NODE_ENV: 'development', DATABASE_CONNECT_TIMEOUT_MS: '15000', ...standInEnv(standIn) },
    { poolSize: database.poolSize },
  );
}

describeInBrowser('the Models settings page in a browser', () => {
  let database: TestDatabase;
  let standIn: ProviderStandIn;
  let service: BuiltServer;
  let origin: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  let acme: string;
  let acmeEu: string;
  let globex: string;
  const anthropicKey = makeTestKey('ANTHROPIC');
  const openaiKey = makeTestKey('OPENAI');

  const token = (sub: string, operator = false) => signDevToken(TEST_JWT_SECRET, { sub, operator });

  async function api(as: string, query: string, variables: Record<string, unknown> = {}, operator = false) {
    const response = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await token(as, operator)}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: any; errors?: { message: string; extensions: Record<string, unknown> }[] };
  }
  const operator = (query: string, variables: Record<string, unknown> = {}) => api('ops', query, variables, true);

  async function createOrganization(name: string, parentId?: string): Promise<string> {
    const created = await operator('mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }', { input: { name, parentId } });
    return created.data?.createOrganization.id;
  }
  async function member(organizationId: string, userId: string, role: 'ADMIN' | 'MEMBER') {
    await operator('mutation($input: SetMembershipInput!) { setMembership(input: $input) { role } }', { input: { organizationId, userId, role } });
  }

  /** A browser context of its own (its own storage) for one user, on the page of one organization. */
  async function open(as: string, organizationId: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(STEP_MS);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${as}: ${error.message}`));
    await page.goto(`${origin}/settings/organization/models?organization=${organizationId}#token=${await token(as)}`);
    await page.getByRole('heading', { level: 1, name: 'Models' }).waitFor();
    await page.getByText('Loading…').waitFor({ state: 'detached' });
    return page;
  }
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const optionsOf = (page: Page, label: string) =>
    page.getByLabel(label, { exact: true }).locator('option').evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value));
  const pinnable = async (as: string, id: string) =>
    ((await api(as, 'query($id: ID!) { organization(id: $id) { pinnableModels { id } } }', { id })).data?.organization.pinnableModels as { id: string }[]).map(
      (model) => model.id,
    );
  const SETTINGS = 'query($id: ID!) { organization(id: $id) { modelSettings { primaryModel { id } fallbackModel { id } exclusive offerToSubOrganizations version updatedBy } } }';

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: CI must install chromium (apt-get install -y chromium)`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    [database, standIn] = await Promise.all([createTestDatabase(), startProviderStandIn({ acceptKeys: [anthropicKey, openaiKey] })]);
    // Built first (the service and, when its sources changed, the page), as `npm start` does.
    service = await startService(database, standIn);
    origin = new URL(service.url).origin;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 20_000 });

    acme = await createOrganization('Acme');
    acmeEu = await createOrganization('Acme EU', acme);
    globex = await createOrganization('Globex');
    await member(acme, 'acme-admin', 'ADMIN');
    await member(acme, 'acme-admin-2', 'ADMIN');
    await member(acme, 'acme-member', 'MEMBER');
    await member(acmeEu, 'eu-member', 'MEMBER');
    await member(globex, 'globex-admin', 'ADMIN');
  }, 120_000);

  // Each test's pages go when it ends: a renderer process and its page are tens of MB apiece.
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    await standIn?.close();
    await database?.drop();
  });

  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });

  it('shows an admin without connections Connect Anthropic and Connect OpenAI; a rejected key is told in the dialog and stores nothing; an accepted one shows its hint and VERIFIED, never the key', async () => {
    const page = await open('acme-admin', acme);
    // The token left the address bar and stays with the tab.
    expect(page.url()).toBe(`${origin}/settings/organization/models?organization=${acme}`);
    expect(await page.evaluate(() => sessionStorage.getItem('byom.settings.token'))).toMatch(/^ey/);
    await page.getByRole('button', { name: 'Connect Anthropic' }).waitFor();
    await page.getByRole('button', { name: 'Connect OpenAI' }).waitFor();
    expect(await page.getByText('Connect a provider above to choose the models Acme uses.').isVisible()).toBe(true);
    await shot(page, 'no-connection');

    // Keyboard only: focus the button, open the dialog, paste a key the provider rejects.
    await page.getByRole('button', { name: 'Connect Anthropic' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Connect Anthropic' });
    await dialog.waitFor();
    const rejected = makeTestKey('ANTHROPIC');
    await page.keyboard.insertText(rejected);
    const answer = page.waitForResponse((response) => response.url().endsWith('/graphql') && (response.request().postData() ?? '').includes('ConnectProvider'));
    await page.keyboard.press('Enter');
    const refused = await (await answer).json();
    expect(refused.errors[0].extensions.code).toBe('INVALID_API_KEY');
    await dialog.getByRole('alert').getByText(refused.errors[0].message, { exact: true }).waitFor();
    expect(await dialog.getByLabel('API key').getAttribute('aria-invalid')).toBe('true');
    await shot(page, 'rejected-key');
    const none = await api('acme-admin', 'query($id: ID!) { organization(id: $id) { providerConnections { provider } } }', { id: acme });
    expect(none.data?.organization.providerConnections).toEqual([]);

    await dialog.getByLabel('API key').fill(anthropicKey);
    await dialog.getByRole('button', { name: 'Connect Anthropic' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByTestId('key-hint-ANTHROPIC').getByText(`…${anthropicKey.slice(-4)}`, { exact: true }).waitFor();
    await expect(page.getByTestId('status-ANTHROPIC').textContent()).resolves.toBe('VERIFIED');
    const stored = await api('acme-admin', 'query($id: ID!) { organization(id: $id) { providerConnections { provider keyHint status } } }', { id: acme });
    expect(stored.data?.organization.providerConnections).toEqual([{ provider: 'ANTHROPIC', keyHint: `…${anthropicKey.slice(-4)}`, status: 'VERIFIED' }]);
    for (const key of [anthropicKey, rejected]) {
      expect(await page.content()).not.toContain(key);
      const storage = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }));
      expect(storage).not.toContain(key);
    }
  });

  it('offers exactly pinnableModels; saves a primary and, after OpenAI is connected, a fallback; shows the notices and how many sub-organizations now inherit', async () => {
    const page = await open('acme-admin', acme);
    expect(await optionsOf(page, 'Primary model')).toEqual(['', ...(await pinnable('acme-admin', acme))]);
    expect(await optionsOf(page, 'Primary model')).toEqual(['', 'claude-opus-4-6', 'claude-sonnet-4-6', 'claude-haiku-4-5']);

    await page.getByRole('button', { name: 'Connect OpenAI' }).click();
    const dialog = page.getByRole('dialog', { name: 'Connect OpenAI' });
    await dialog.getByLabel('API key').fill(openaiKey);
    await dialog.getByRole('button', { name: 'Connect OpenAI' }).click();
    await dialog.waitFor({ state: 'detached' });
    // The mutation's organization carried the new pinnable models into the cache: no reload.
    const offered = await pinnable('acme-admin', acme);
    expect(offered).toEqual(['claude-opus-4-6', 'claude-sonnet-4-6', 'claude-haiku-4-5', 'gpt-5.4', 'gpt-5-mini', 'gpt-5-nano']);
    expect(await optionsOf(page, 'Primary model')).toEqual(['', ...offered]);
    expect(await optionsOf(page, 'Fallback model')).toEqual(['', ...offered]);

    await page.getByLabel('Primary model', { exact: true }).selectOption('claude-sonnet-4-6');
    await page.getByLabel('Fallback model', { exact: true }).selectOption('gpt-5-mini');
    await page.getByLabel('Offer same models to sub-organizations').check();
    const saved = page.waitForResponse((response) => (response.request().postData() ?? '').includes('UpdateModelSettings'));
    await page.getByRole('button', { name: 'Save' }).click();
    const payload = (await (await saved).json()).data.updateModelSettings;
    expect(payload.inheritingSubOrganizations).toBe(1);
    await page.getByTestId('save-status').getByText('Saved. 1 sub-organization now inherits these models.', { exact: true }).waitFor();
    // The notices, next to the field they concern, as the API gave them.
    expect(payload.notices.map((notice: { code: string }) => notice.code)).toEqual(['FALLBACK_LACKS_CAPABILITY']);
    await expect(page.getByTestId('fallback-notices').getByRole('listitem').allTextContents()).resolves.toEqual(
      payload.notices.map((notice: { message: string }) => notice.message),
    );
    expect(await page.getByTestId('primary-notices').count()).toBe(0);
    await shot(page, 'saved-with-notices');
    // Every control has an accessible name (a label, its text or aria-label).
    const unnamed = await page.locator('button, select, input, a').evaluateAll((elements) =>
      elements
        .filter((element) => {
          const labelled = (element as HTMLInputElement).labels?.length || element.getAttribute('aria-label') || element.textContent?.trim();
          return !labelled;
        })
        .map((element) => element.outerHTML),
    );
    expect(unnamed).toEqual([]);

    const settings = await api('acme-admin', SETTINGS, { id: acme });
    expect(settings.data?.organization.modelSettings).toEqual({
      primaryModel: { id: 'claude-sonnet-4-6' },
      fallbackModel: { id: 'gpt-5-mini' },
      exclusive: false,
      offerToSubOrganizations: true,
      version: 1,
      updatedBy: 'acme-admin',
    });
    const inherited = await api('eu-member', 'query($id: ID!) { organization(id: $id) { effectiveModels { source inheritedFrom { name } primary { model { id } } } } }', { id: acmeEu });
    expect(inherited.data?.organization.effectiveModels).toEqual({ source: 'INHERITED', inheritedFrom: { name: 'Acme' }, primary: { model: { id: 'claude-sonnet-4-6' } } });

    // gpt-5.4 as the fallback: it has all the primary has, and the notice goes.
    await page.getByLabel('Fallback model', { exact: true }).selectOption('gpt-5.4');
    const again = page.waitForResponse((response) => (response.request().postData() ?? '').includes('UpdateModelSettings'));
    await page.getByRole('button', { name: 'Save' }).click();
    expect((await (await again).json()).data.updateModelSettings.notices).toEqual([]);
    await page.getByTestId('settings-version').getByText('Version 2').waitFor();
    expect(await page.getByTestId('fallback-notices').count()).toBe(0);
    expect((await api('acme-admin', SETTINGS, { id: acme })).data?.organization.modelSettings.fallbackModel).toEqual({ id: 'gpt-5.4' });
  });

  it('turns on exclusive mode; a member then sees no platform model, read-only', async () => {
    const admin = await open('acme-admin', acme);
    await admin.getByLabel('Only use my custom LLM models').check();
    await admin.getByRole('button', { name: 'Save' }).click();
    await admin.getByTestId('settings-version').getByText('Version 3').waitFor();
    expect((await api('acme-admin', SETTINGS, { id: acme })).data?.organization.modelSettings.exclusive).toBe(true);

    const page = await open('acme-member', acme);
    await page.getByRole('table', { name: 'Models offered in this organization' }).waitFor();
    await page.getByTestId('effective-source').getByText("This organization's own settings", { exact: true }).waitFor();
    const billedTo = await page.getByRole('table', { name: 'Models offered in this organization' }).locator('tbody tr td:nth-child(4)').allTextContents();
    const available = await api('acme-member', 'query($id: ID!) { organization(id: $id) { effectiveModels { availableModels { model { id } billing } } } }', { id: acme });
    const models = available.data?.organization.effectiveModels.availableModels as { model: { id: string }; billing: string }[];
    expect(models.every((option) => option.billing === 'PROVIDER_ACCOUNT')).toBe(true);
    expect(billedTo).toEqual(models.map(() => 'Your provider account'));
    expect(await page.getByRole('table', { name: 'Models offered in this organization' }).locator('tbody code').allTextContents()).toEqual(models.map((option) => option.model.id));
    // Read-only: no control changes anything, and the page says why.
    expect(await page.getByRole('combobox').count()).toBe(0);
    expect(await page.getByRole('checkbox').count()).toBe(0);
    expect(await page.getByRole('button').count()).toBe(0);
    await page.getByText('Only admins of Acme can change these settings.').waitFor();
    await shot(page, 'member-read-only');
  });

  it('shows the offer toggle only to a parent; a sub-organization member sees "inherited from Acme", read-only', async () => {
    const globexPage = await open('globex-admin', globex);
    await globexPage.getByRole('button', { name: 'Connect Anthropic' }).click();
    const dialog = globexPage.getByRole('dialog', { name: 'Connect Anthropic' });
    await dialog.getByLabel('API key').fill(anthropicKey);
    await dialog.getByRole('button', { name: 'Connect Anthropic' }).click();
    await dialog.waitFor({ state: 'detached' });
    await globexPage.getByLabel('Only use my custom LLM models').waitFor();
    expect(await globexPage.getByLabel('Offer same models to sub-organizations').count()).toBe(0);
    const isParent = await api('globex-admin', 'query($id: ID!) { organization(id: $id) { isParent } }', { id: globex });
    expect(isParent.data?.organization.isParent).toBe(false);

    const page = await open('eu-member', acmeEu);
    await page.getByTestId('effective-source').getByText('Inherited from Acme', { exact: true }).waitFor();
    await expect(page.getByTestId('effective-primary').locator('code').textContent()).resolves.toBe('claude-sonnet-4-6');
    expect(await page.getByRole('combobox').count()).toBe(0);
    expect(await page.getByRole('button').count()).toBe(0);
    await shot(page, 'sub-organization-inherited');
  });

  it('tells the second of two admins saving from two pages that someone else changed the settings, and shows theirs: nothing is lost silently', async () => {
    const first = await open('acme-admin', acme);
    const second = await open('acme-admin-2', acme);
    await second.getByLabel('Primary model', { exact: true }).selectOption('claude-opus-4-6');
    await second.getByRole('button', { name: 'Save' }).click();
    await second.getByTestId('settings-version').getByText('Version 4').waitFor();

    // The first page still holds version 3.
    await first.getByLabel('Fallback model', { exact: true }).selectOption('');
    await first.getByRole('button', { name: 'Save' }).click();
    await first.getByTestId('conflict').waitFor();
    await first.getByRole('alert').filter({ hasText: 'Someone else changed these settings' }).waitFor();
    await expect(first.getByTestId('conflict').textContent()).resolves.toContain('Someone else changed these settings');
    await first.getByTestId('settings-version').getByText('Version 4').waitFor();
    expect(await first.getByLabel('Primary model', { exact: true }).inputValue()).toBe('claude-opus-4-6');
    expect(await first.getByLabel('Fallback model', { exact: true }).inputValue()).toBe('gpt-5.4');
    await shot(first, 'conflict');

    expect((await api('acme-admin', SETTINGS, { id: acme })).data?.organization.modelSettings).toEqual({
      primaryModel: { id: 'claude-opus-4-6' },
      fallbackModel: { id: 'gpt-5.4' },
      exclusive: true,
      offerToSubOrganizations: true,
      version: 4,
      updatedBy: 'acme-admin-2',
    });
  });

  it('shows what depends on a connection in use when disconnecting it, and keeps it', async () => {
    const page = await open('acme-admin', acme);
    const answer = page.waitForResponse((response) => (response.request().postData() ?? '').includes('DisconnectProvider'));
    await page.getByRole('button', { name: 'Disconnect Anthropic' }).click();
    const refused = await (await answer).json();
    expect(refused.errors[0].extensions.code).toBe('CONNECTION_IN_USE');
    expect(refused.errors[0].extensions.uses).toEqual([
      { organizationId: acme, organizationName: 'Acme', role: 'PRIMARY', modelId: 'claude-opus-4-6', source: 'OWN' },
      { organizationId: acmeEu, organizationName: 'Acme EU', role: 'PRIMARY', modelId: 'claude-opus-4-6', source: 'INHERITED' },
    ]);
    const shown = page.getByTestId('disconnect-error-ANTHROPIC');
    await shown.waitFor();
    await expect(shown.getByRole('listitem').allTextContents()).resolves.toEqual([
      'Primary model claude-opus-4-6 of Acme (its own settings)',
      'Primary model claude-opus-4-6 of Acme EU (inherited)',
    ]);
    expect(await page.getByRole('button', { name: 'Disconnect Anthropic' }).getAttribute('aria-describedby')).toBe(await shown.getAttribute('id'));
    await shot(page, 'connection-in-use');
    const kept = await api('acme-admin', 'query($id: ID!) { organization(id: $id) { providerConnections { provider } } }', { id: acme });
    expect(kept.data?.organization.providerConnections).toEqual([{ provider: 'ANTHROPIC' }, { provider: 'OPENAI' }]);
  });

  it('removes the settings after a confirmation, so the models in use are the platform\'s again; a page still showing the removed settings is told, and removes nothing', async () => {
    const page = await open('globex-admin', globex);
    await page.getByLabel('Primary model', { exact: true }).selectOption('claude-haiku-4-5');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('settings-version').getByText('Version 1').waitFor();
    await page.getByTestId('effective-source').getByText("This organization's own settings", { exact: true }).waitFor();
    const stale = await open('globex-admin', globex);
    await stale.getByTestId('settings-version').getByText('Version 1').waitFor();

    // Asked first; keeping them changes nothing.
    await page.getByRole('button', { name: 'Remove these settings' }).click();
    const confirm = page.getByTestId('confirm-removal');
    await expect(confirm.locator('p').textContent()).resolves.toContain("Remove Globex's own model settings?");
    await confirm.getByRole('button', { name: 'Keep them' }).click();
    await confirm.waitFor({ state: 'detached' });
    expect((await api('globex-admin', SETTINGS, { id: globex })).data?.organization.modelSettings).toMatchObject({ primaryModel: { id: 'claude-haiku-4-5' }, version: 1 });

    await page.getByRole('button', { name: 'Remove these settings' }).click();
    const cleared = page.waitForResponse((response) => (response.request().postData() ?? '').includes('ClearModelSettings'));
    await page.getByTestId('confirm-removal').getByRole('button', { name: 'Remove settings' }).click();
    expect((await (await cleared).json()).errors).toBeUndefined();
    await page.getByTestId('save-status').getByText('Settings removed: Globex now uses the models shown under Models in use.', { exact: true }).waitFor();
    await page.getByTestId('effective-source').getByText('Platform defaults', { exact: true }).waitFor();
    expect(await page.getByTestId('settings-version').count()).toBe(0);
    expect(await page.getByLabel('Primary model', { exact: true }).inputValue()).toBe('');
    expect(await page.getByRole('button', { name: 'Remove these settings' }).count()).toBe(0);
    await shot(page, 'settings-removed');
    expect((await api('globex-admin', SETTINGS, { id: globex })).data?.organization.modelSettings).toBeNull();

    // Made again, they take the next version: the other page's version 1 names nothing any more.
    await page.getByLabel('Primary model', { exact: true }).selectOption('claude-opus-4-6');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('settings-version').getByText('Version 2').waitFor();
    await stale.getByRole('button', { name: 'Remove these settings' }).click();
    await stale.getByTestId('confirm-removal').getByRole('button', { name: 'Remove settings' }).click();
    await stale.getByTestId('conflict').waitFor();
    await stale.getByTestId('settings-version').getByText('Version 2').waitFor();
    expect(await stale.getByLabel('Primary model', { exact: true }).inputValue()).toBe('claude-opus-4-6');
    expect((await api('globex-admin', SETTINGS, { id: globex })).data?.organization.modelSettings).toMatchObject({ primaryModel: { id: 'claude-opus-4-6' }, version: 2 });
  });

  it('tells a visitor without a token how to get one, and one without an organization what to add', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`no token: ${error.message}`));
    await page.goto(`${origin}/settings/organization/models?organization=${acme}`);
    const signIn = page.getByRole('alert').filter({ has: page.getByRole('heading', { name: 'Sign in to see this page' }) });
    await signIn.waitFor();
    await expect(signIn.locator('p').textContent()).resolves.toBe(
      'Open it with a token in the address: #token=<your token> (in development, npm run -s token -- --sub <you> --organization <id> prints the address).',
    );
    expect(await signIn.locator('code').allTextContents()).toEqual(['#token=<your token>', 'npm run -s token -- --sub <you> --organization <id>']);

    await page.goto(`${origin}/settings/organization/models#token=${await token('acme-admin')}`);
    await page.getByRole('heading', { name: 'Which organization?' }).waitFor();
    await expect(page.getByRole('alert').locator('p').textContent()).resolves.toBe('Add the organization to the address: ?organization=<organization id>.');
  });

  it('tells an outsider that they have no access, and shows no data', async () => {
    const page = await open('outsider', acme);
    await page.getByRole('heading', { name: "You don't have access to this organization" }).waitFor();
    const html = await page.content();
    for (const leaked of ['Acme', 'claude-', 'gpt-', 'VERIFIED']) expect(html).not.toContain(leaked);
    const refused = await api('outsider', 'query($id: ID!) { organization(id: $id) { name } }', { id: acme });
    expect(refused.data?.organization).toBeNull();
    expect(refused.errors?.[0].extensions.code).toBe('FORBIDDEN');
    await shot(page, 'no-access');
    // The service never logged a key.
    for (const key of [anthropicKey, openaiKey]) expect(service.output()).not.toContain(key);
  });
});
