/**
 * Prints a development token signed with the service's HS256 secret:
 *   npm run -s token -- --sub alice [--operator] [--ttl 12h]
 * or, with --organization, the address of the Models settings page for that user and
 * organization, the token in its fragment (which the page keeps for the tab and clears):
 *   npm run -s token -- --sub alice --organization <id>
 * Refuses to run in production, and refuses a ttl longer than AUTH_JWT_MAX_TTL (the service
 * would refuse the token).
 */
import { parseArgs } from 'node:util';
import { decodeJwt, SignJWT } from 'jose';
import { runCommand } from '../cli';
import { type Config, loadConfig } from '../config';
import { SETTINGS_PAGE_PATH } from '../settings-page-path';
import { OPERATOR_ROLE, subProblem } from './authentication';

/** An id as the service accepts one (any UUID version), checked without loading a validation library. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function signDevToken(
  secret: string,
  { sub, operator = false, ttl = '12h' }: { sub: string; operator?: boolean; ttl?: string },
): Promise<string> {
  return new SignJWT({ roles: operator ? [OPERATOR_ROLE] : [] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(new TextEncoder().encode(secret));
}

/** The settings page's address on the service as configured here, for one organization, signed in with `token`. */
export function settingsPageAddress(config: Pick<Config, 'host' | 'port'>, organizationId: string, token: string): string {
  const host = config.host === undefined || config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const query = new URLSearchParams({ organization: organizationId.toLowerCase() });
  return `http://${host}:${config.port}${SETTINGS_PAGE_PATH}?${query}#${new URLSearchParams({ token })}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      operator: { type: 'boolean', default: false },
      ttl: { type: 'string', default: '12h' },
      organization: { type: 'string' },
    },
  });
  if (!values.sub) {
    process.stderr.write('usage: npm run -s token -- --sub <user id> [--operator] [--ttl 12h] [--organization <id>: print the settings page address]\n');
    return 2;
  }
  if (values.organization !== undefined && !UUID.test(values.organization)) {
    process.stderr.write(`--organization must be an organization id (a UUID), not ${JSON.stringify(values.organization)}.\n`);
    return 2;
  }
  const problem = subProblem(values.sub);
  if (problem) {
    process.stderr.write(`--sub: ${problem}; the service would refuse the token.\n`);
    return 2;
  }
  const { config } = loadConfig(process.env);
  if (config.isProduction) {
    process.stderr.write('Refusing to mint development tokens with NODE_ENV=production.\n');
    return 1;
  }
  if (!config.auth.jwtSecret) {
    process.stderr.write('No HS256 secret: AUTH_JWKS_URL is set without AUTH_JWT_SECRET, so tokens come from your identity provider.\n');
    return 1;
  }
  let token: string;
  try {
    token = await signDevToken(config.auth.jwtSecret, { sub: values.sub, operator: values.operator, ttl: values.ttl });
  } catch {
    process.stderr.write(`--ttl must be a time span such as 12h, 90m or 3600s, not ${JSON.stringify(values.ttl)}.\n`);
    return 2;
  }
  const { exp, iat } = decodeJwt(token);
  if ((exp as number) - (iat as number) > config.auth.maxTtlSeconds) {
    process.stderr.write(
      `--ttl ${values.ttl} is longer than AUTH_JWT_MAX_TTL allows (${config.auth.maxTtlSeconds} s): the service would refuse the token.\n`,
    );
    return 2;
  }
  if (values.organization !== undefined) {
    if (!config.settingsPage) process.stderr.write('SETTINGS_PAGE=false: the service does not serve the settings page.\n');
    process.stdout.write(`${settingsPageAddress(config, values.organization, token)}\n`);
    return 0;
  }
  process.stdout.write(`${token}\n`);
  return 0;
}

if (require.main === module) runCommand(main);
