import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { USER_ID_MAX_LENGTH } from '../organizations/membership.entity';

/** Who is calling: the token's subject, and whether the platform marked it an operator. */
export interface Principal {
  userId: string;
  isOperator: boolean;
}

export type Authentication = { principal: Principal } | { principal: null; failure: string };

export const OPERATOR_ROLE = 'operator';
const CLOCK_TOLERANCE_SECONDS = 30;

/** What a bad token looks like to jose; anything else (the key set unreachable) is our failure. */
const TOKEN_ERRORS = [
  errors.JWTExpired,
  errors.JWTClaimValidationFailed,
  errors.JWTInvalid,
  errors.JWSInvalid,
  errors.JWSSignatureVerificationFailed,
  errors.JWKSNoMatchingKey,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
];

/**
 * Checks `Authorization: Bearer <JWT>` headers. HS256 tokens are checked against
 * AUTH_JWT_SECRET; RS256 and ES256 tokens against the key set at AUTH_JWKS_URL. A token must
 * carry `sub` and `exp` (and the configured issuer and audience). Failures say why in general
 * terms and never echo the token.
 */
export function createAuthenticator(
  auth: Config['auth'],
): (header: string | undefined, log?: Logger) => Promise<Authentication> {
  // Imported once: given raw bytes, jose would import the key again for every token it checks.
  const secret = auth.jwtSecret
    ? crypto.subtle.importKey('raw', new TextEncoder().encode(auth.jwtSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
    : undefined;
  const keySet = auth.jwksUrl
    ? createRemoteJWKSet(new URL(auth.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000 })
    : undefined;

  async function verify(token: string, alg: string | undefined): Promise<JWTPayload> {
    const options = {
      algorithms: [alg ?? ''],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['sub', 'exp'],
      issuer: auth.issuer,
      audience: auth.audience,
    };
    if (alg === 'HS256' && secret) return (await jwtVerify(token, await secret, options)).payload;
    if ((alg === 'RS256' || alg === 'ES256') && keySet) return (await jwtVerify(token, keySet, options)).payload;
    throw new errors.JOSEAlgNotAllowed(`tokens signed with ${alg ?? 'no algorithm'} are not accepted`);
  }

  return async function authenticate(header, log) {
    if (!header) return { principal: null, failure: 'Authentication required: send Authorization: Bearer <token>' };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return { principal: null, failure: 'The Authorization header must be "Bearer <token>"' };
    let alg: string | undefined;
    try {
      ({ alg } = decodeProtectedHeader(match[1]));
    } catch {
      return { principal: null, failure: 'The token is not valid' };
    }
    let payload: JWTPayload;
    try {
      payload = await verify(match[1], alg);
    } catch (error) {
      if (error instanceof errors.JWTExpired) return { principal: null, failure: 'The token has expired' };
      if (TOKEN_ERRORS.some((kind) => error instanceof kind)) return { principal: null, failure: 'The token is not valid' };
      log?.error({ err: error }, 'cannot check tokens: the key set is unreachable or unreadable');
      return { principal: null, failure: 'The token cannot be checked right now' };
    }
    const userId = payload.sub;
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > USER_ID_MAX_LENGTH) {
      return { principal: null, failure: 'The token is not valid: sub must be a user id' };
    }
    return { principal: { userId, isOperator: hasOperatorRole(payload.roles) } };
  };
}

function hasOperatorRole(roles: unknown): boolean {
  if (Array.isArray(roles)) return roles.includes(OPERATOR_ROLE);
  if (typeof roles === 'string') return roles.split(/[\s,]+/).includes(OPERATOR_ROLE);
  return false;
}
