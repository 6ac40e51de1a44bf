import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { jwtVerify } from 'jose';

/** `npm run token -- --sub <user> --organization <id>`: the settings page's address for that user, the token in its fragment. */
const ROOT = path.join(__dirname, '../..');
const SECRET = 'a-development-secret-of-at-least-32-characters';
const ORGANIZATION = '0A2C6B2E-2D6F-4C4B-9C53-3F0C1E9A7B11';

function token(...args: string[]) {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT });
  const { NODE_OPTIONS: _options, ...env } = process.env;
  return execFileSync(process.execPath, [path.join(ROOT, 'dist/src/auth/dev-token.js'), ...args], {
    cwd: ROOT,
    env: { ...env, NODE_ENV: 'development', AUTH_JWT_SECRET: SECRET, PORT: '4321', HOST: '127.0.0.1' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('the token command for the settings page', () => {
  it('prints the page address of the organization, with a token for the user in the fragment', async () => {
    const address = new URL(token('--sub', 'alice', '--organization', ORGANIZATION).trim());
    expect(`${address.origin}${address.pathname}`).toBe('http://127.0.0.1:4321/settings/organization/models');
    expect(address.searchParams.get('organization')).toBe(ORGANIZATION.toLowerCase());
    const fragment = new URLSearchParams(address.hash.slice(1));
    const { payload } = await jwtVerify(fragment.get('token') as string, new TextEncoder().encode(SECRET));
    expect(payload.sub).toBe('alice');
    expect(payload.roles).toEqual([]);
  });

  it('refuses an organization that is not a UUID, with status 2', () => {
    let failure: { status?: number; stderr?: string; stdout?: string } = {};
    try {
      token('--sub', 'alice', '--organization', 'acme');
    } catch (error) {
      failure = error as typeof failure;
    }
    expect(failure.status).toBe(2);
    expect(failure.stderr).toContain('--organization must be an organization id (a UUID), not "acme"');
    expect(failure.stdout).toBe('');
  });
});
