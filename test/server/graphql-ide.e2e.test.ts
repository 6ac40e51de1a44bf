import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, describeInBrowser as describeInBrowserFor, haveChromium } from '../support/chromium';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * The longest one step in the browser may take. GraphiQL's first load parses and runs its whole
 * bundle (Monaco's editor with it): it passed 5 s once while the settings page's test drove the
 * other Chromium on a loaded 2-core machine.
 */
const STEP_MS = 15_000;
const SCREENSHOT = '/tmp/ide.png';

const describeInBrowser = describeInBrowserFor('the GraphQL IDE tests');

const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describeInBrowser('the GraphQL IDE in development', () => {
  let server: TestServer;
  let userDataDir: string;
  let context: BrowserContext;
  let page: Page;
  const requested: string[] = [];
  const pageErrors: string[] = [];

  const origin = () => new URL(server.url).origin;

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: CI must install chromium (apt-get install -y chromium)`);
    server = await startTestServer();
    userDataDir = mkdtempSync(path.join(tmpdir(), 'graphql-ide-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      timeout: 15_000,
      viewport: { width: 1280, height: 800 },
    });
    context.setDefaultTimeout(STEP_MS);
    // Every request of every page and worker of the browser, not only the IDE's document.
    context.on('request', (request) => requested.push(request.url()));
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
  }, 30_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await server?.stop();
  });

  const elsewhere = () => requested.filter((url) => new URL(url).origin !== origin());

  /** Replaces the whole text of the visible Monaco editor inside `selector`. */
  async function fill(selector: string, text: string) {
    const editor = page.locator(`${selector} .monaco-editor`).filter({ visible: true });
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    // Inserted in one piece, as a paste: typed keys would have the editor close brackets itself.
    await page.keyboard.insertText(text);
  }

  it('renders GraphiQL from the service itself, requesting nothing from any other origin', async () => {
    const introspection = page.waitForResponse((response) => response.url() === server.url && response.request().method() === 'POST', { timeout: STEP_MS });
    const response = await page.goto(server.url, { timeout: STEP_MS });
    expect(response?.status()).toBe(200);
    expect((await introspection).status()).toBe(200);
    await page.locator('.graphiql-query-editor .monaco-editor').waitFor({ timeout: STEP_MS });
    expect(await page.title()).toBe('byom-subgraph GraphiQL');
    // The default query tells how to make and enter a token (the editor shows spaces as &nbsp;).
    expect(await page.locator('.graphiql-query-editor').innerText()).toMatch(/npm\s+run\s+-s\s+token/);

    // The page, the blob: URLs of the editor's workers, and the schema's introspection.
    expect(requested.length).toBeGreaterThan(2);
    expect(elsewhere()).toEqual([]);
  });

  it('runs a typed query with the bearer token entered in the Headers editor', async () => {
    const token = await server.token('ide-user');
    await fill('.graphiql-editor-tool', JSON.stringify({ Authorization: `Bearer ${token}` }));
    await fill('.graphiql-query-editor', '{ viewer { userId isOperator } }');
    await page.locator('.graphiql-execute-button').click();

    const result = page.locator('.graphiql-response');
    await result.getByText('"ide-user"').waitFor({ timeout: STEP_MS });
    await page.screenshot({ path: SCREENSHOT, timeout: STEP_MS });
    expect(await result.innerText()).toMatch(/"userId":\s*"ide-user",\s*"isOperator":\s*false/);

    expect(elsewhere()).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('lets the page reach no other origin, even one that would answer', async () => {
    const other = new URL(server.url);
    other.hostname = 'localhost'; // the same server, under another origin
    const outcome = await page.evaluate(
      (url) => fetch(url).then((response) => `reached: ${response.status}`, (error: Error) => `refused: ${error.message}`),
      `${other.origin}/healthz`,
    );
    expect(outcome).toMatch(/^refused/);
    expect(pageErrors.join('\n')).toMatch(/Content Security Policy/);
    expect(elsewhere()).toEqual([]);
  });

  it('serves the page with a policy that keeps its requests on the same origin, and revalidates it cheaply', async () => {
    const response = await fetch(server.url, { headers: { accept: HTML } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    await response.arrayBuffer();

    const again = await fetch(server.url, {
      // As a browser's reload sends it: without a cache-control of its own, fetch adds no-cache.
      headers: { accept: HTML, 'if-none-match': response.headers.get('etag') ?? '', 'cache-control': 'max-age=0' },
    });
    expect(again.status).toBe(304);
  });

  it('leaves requests that do not prefer HTML to GraphQL', async () => {
    const response = await fetch(server.url, { headers: { accept: 'application/json' } });
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(await response.text()).not.toContain('GraphiQL');
  });
});

describe('the GraphQL IDE in production', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ NODE_ENV: 'production' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('is not served: a browser asking for /graphql gets no page', async () => {
    const response = await fetch(server.url, { headers: { accept: HTML } });
    expect(response.headers.get('content-type')).not.toMatch(/text\/html/);
    const body = await response.text();
    expect(body).not.toMatch(/graphiql|sandbox|<html/i);
    expect(response.status).toBe(400);
  });
});
