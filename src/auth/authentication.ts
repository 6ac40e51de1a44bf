import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { type Config, DEFAULT_JWT_MAX_TTL_SECONDS } from '../config';
import type { Logger } from '../logger';
import { USER_ID_MAX_LENGTH } from '../organizations/user-id';

/** Who is calling: the token's subject, and whether the platform marked it an operator. */
export interface Principal {
  userId: string;
  isOperator: boolean;
}

export type Authentication = { principal: Principal } | { principal: null; failure: string };

export const OPERATOR_ROLE = 'operator';
const CLOCK_TOLERANCE_SECONDS = 30;
/**
 * A token accepted once is accepted again without checking its signature and claims anew (most
 * of the cost of a request that reads no data), for at most this long and never past its expiry
 * with the clock tolerance: a key removed from the key set stops its tokens within a minute.
 */
const ACCEPTED_FOR_SECONDS = 60;
const ACCEPTED_MAX_TOKENS = 10_000;

/**
 * The longest `sub` accepted: DESIGN.md allows up to 255 characters, but user ids are stored in
 * columns of USER_ID_MAX_LENGTH (memberships, audit actors), and a longer one would fail there.
 */
export const SUB_MAX_LENGTH = USER_ID_MAX_LENGTH;

/**
 * Characters a user id never holds: control characters (C0 with NUL, DEL, C1), format characters
 * (zero-width spaces and joiners, bidirectional overrides, the byte order mark), lone surrogates,
 * and the line and paragraph separators. PostgreSQL refuses NUL in text, node-postgres turns a lone
 * surrogate into U+FFFD (another user's id), and the others disguise an id in logs and pages.
 */
const UNSAFE_IN_SUB = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

/** Why `sub` is not a user id, or null when it is one: 1 to SUB_MAX_LENGTH characters, safe, not blank. */
export function subProblem(sub: unknown): string | null {
  if (typeof sub !== 'string') return 'sub must be a string';
  const length = [...sub].length; // characters, as PostgreSQL counts them for varchar(n)
  if (length === 0 || length > SUB_MAX_LENGTH) return `sub must be 1 to ${SUB_MAX_LENGTH} characters`;
  if (UNSAFE_IN_SUB.test(sub)) return 'sub must not contain control or format characters';
  if (/^\s+$/u.test(sub)) return 'sub must not be blank';
  return null;
}

/**
 * Whether the `roles` claim marks an operator, or null when the claim is malformed. Absent: not
 * an operator. Present: an array of strings, of which only the exact element `operator` counts;
 * anything else (a string such as "operator", null, an array holding a non-string) is malformed.
 */
function operatorFrom(roles: unknown): boolean | null {
  if (roles === undefined) return false;
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) return null;
  return roles.includes(OPERATOR_ROLE);
}

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
 * carry `sub` and `exp` (and the configured issuer and audience), and its claims are checked
 * strictly (DESIGN.md section 2): `sub` a user id (subProblem), `roles` absent or an array of
 * strings, `exp` at most `maxTtlSeconds` ahead. Failures say why in general terms and never echo
 * the token. `log` (asked only then) answers the logger that hears of a key set that cannot be read.
 */
export function createAuthenticator(
  auth: Omit<Config['auth'], 'maxTtlSeconds'> & { maxTtlSeconds?: number },
): (header: string | undefined, log?: () => Logger) => Promise<Authentication> {
  const maxTtlSeconds = auth.maxTtlSeconds ?? DEFAULT_JWT_MAX_TTL_SECONDS;
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

  /** Tokens accepted lately, oldest first: the principal, and until when (seconds) it stands. */
  const accepted = new Map<string, { principal: Principal; until: number }>();

  return async function authenticate(header, log) {
    if (!header) return { principal: null, failure: 'Authentication required: send Authorization: Bearer <token>' };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return { principal: null, failure: 'The Authorization header must be "Bearer <token>"' };
    const known = accepted.get(match[1]);
    if (known && Date.now() / 1000 < known.until) return { principal: known.principal };
    if (known) accepted.delete(match[1]);
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
      log?.().error({ err: error }, 'cannot check tokens: the key set is unreachable or unreadable');
      return { principal: null, failure: 'The token cannot be checked right now' };
    }
    const problem = subProblem(payload.sub);
    if (problem) return { principal: null, failure: `The token is not valid: ${problem}` };
    const isOperator = operatorFrom(payload.roles);
    if (isOperator === null) return { principal: null, failure: 'The token is not valid: roles must be an array of strings' };
    // jose has checked that exp is a number and not past; it may not lie further ahead than allowed.
    if ((payload.exp as number) > Date.now() / 1000 + maxTtlSeconds + CLOCK_TOLERANCE_SECONDS) {
      return { principal: null, failure: 'The token is not valid: exp lies further ahead than tokens may live' };
    }
    const principal = { userId: payload.sub as string, isOperator };
    if (accepted.size >= ACCEPTED_MAX_TOKENS) accepted.delete(accepted.keys().next().value as string);
    accepted.set(match[1], { principal, until: Math.min((payload.exp as number) + CLOCK_TOLERANCE_SECONDS, Date.now() / 1000 + ACCEPTED_FOR_SECONDS) });
    return { principal };
  };
}
