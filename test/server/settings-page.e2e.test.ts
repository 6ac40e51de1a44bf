import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseConfig } from '../../src/config';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * Where the service serves the Models settings page (DESIGN.md section 12): outside production by
 * default, in production only with SETTINGS_PAGE=true (a 404 otherwise); its HTML and hashed assets
 * under a content security policy of this origin only. The page itself: test/web/settings-page.e2e.test.ts.
 */
const ROOT = path.join(__dirname, '../..');
const PAGE = '/settings/organization/models';
const PRODUCTION = { NODE_ENV: 'production', HOST: '127.0.0.1' };

describe('serving the settings page', () => {
  const servers: TestServer[] = [];
  const start = async (env: Record<string, string>) => {
    const server = await startTestServer(env);
    servers.push(server);
    return new URL(server.url).origin;
  };

  beforeAll(() => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT });
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('serves the page and its assets outside production, with a policy that allows this origin only', async () => {
    const origin = await start({});
    const page = await fetch(`${origin}${PAGE}?organization=00000000-0000-4000-8000-000000000001`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).toContain('<div id="root"></div>');
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      expect(asset.startsWith(`${PAGE}/assets/`)).toBe(true);
      const response = await fetch(`${origin}${asset}`);
      expect({ asset, status: response.status, cache: response.headers.get('cache-control') }).toEqual({ asset, status: 200, cache: 'public, max-age=31536000, immutable' });
    }
    expect((await fetch(`${origin}${PAGE}/assets/missing.js`)).status).toBe(404);
  });

  it('answers 404 in production unless SETTINGS_PAGE=true', async () => {
    const off = await start(PRODUCTION);
    expect((await fetch(`${off}${PAGE}`)).status).toBe(404);
    expect((await fetch(`${off}${PAGE}/assets/index.js`)).status).toBe(404);
    const on = await start({ ...PRODUCTION, SETTINGS_PAGE: 'true' });
    expect((await fetch(`${on}${PAGE}`)).status).toBe(200);
    const offInDevelopment = await start({ SETTINGS_PAGE: 'false' });
    expect((await fetch(`${offInDevelopment}${PAGE}`)).status).toBe(404);
  });

  it("refuses a SETTINGS_PAGE that is neither 'true' nor 'false', naming it", () => {
    expect(() => parseConfig({ SETTINGS_PAGE: 'yes' })).toThrow(/SETTINGS_PAGE must be 'true' or 'false'/);
  });
});
