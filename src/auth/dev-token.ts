/**
 * Prints a development token signed with the service's HS256 secret:
 *   npm run -s token -- --sub alice [--operator] [--ttl 12h]
 * Refuses to run in production.
 */
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { runCommand } from '../cli';
import { loadConfig } from '../config';
import { OPERATOR_ROLE } from './authentication';

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

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { sub: { type: 'string' }, operator: { type: 'boolean', default: false }, ttl: { type: 'string', default: '12h' } },
  });
  if (!values.sub) {
    process.stderr.write('usage: npm run -s token -- --sub <user id> [--operator] [--ttl 12h]\n');
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
  process.stdout.write(`${await signDevToken(config.auth.jwtSecret, { sub: values.sub, operator: values.operator, ttl: values.ttl })}\n`);
  return 0;
}

if (require.main === module) runCommand(main);
