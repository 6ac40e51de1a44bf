import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { createAuthenticator, type Authentication } from '../../src/auth/authentication';
import { signDevToken } from '../../src/auth/dev-token';
import { parseConfig } from '../../src/config';

const SECRET = 'a-test-secret-of-more-than-32-characters-0123456789';
const OTHER_SECRET = 'another-secret-of-more-than-32-characters-9876543210';

const now = () => Math.floor(Date.now() / 1000);

/** An HS256 token; `claims` replace the defaults (sub 'alice', expiring in an hour), `undefined` removes one. */
function hs256(claims: Record<string, unknown> = {}, secret = SECRET): Promise<string> {
  const payload: Record<string, unknown> = { sub: 'alice', exp: now() + 3600, ...claims };
  for (const key of Object.keys(payload)) if (payload[key] === undefined) delete payload[key];
  return new SignJWT(payload as JWTPayload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

const bearer = (token: string) => `Bearer ${token}`;

/** Asserts a rejection, and that the failure echoes neither the token nor any of its parts. */
function expectRejected(result: Authentication, token: string | undefined, failure: RegExp): void {
  expect(result.principal).toBeNull();
  const message = 'failure' in result ? result.failure : undefined;
  expect(message).toMatch(failure);
  if (token) {
    expect(message).not.toContain(token);
    for (const part of token.split('.').filter((segment) => segment.length > 8)) expect(message).not.toContain(part);
  }
}

const NOT_VALID = /^The token is not valid/;

describe('createAuthenticator', () => {
  describe('with an HS256 secret', () => {
    const authenticate = createAuthenticator({ jwtSecret: SECRET, jwksUrl: undefined });

    it('accepts a valid token and takes the user id from sub', async () => {
      const result = await authenticate(bearer(await hs256({ sub: 'user-42' })));
      expect(result).toEqual({ principal: { userId: 'user-42', isOperator: false } });
    });

    it('accepts the scheme in any letter case, with extra spaces around the token', async () => {
      const result = await authenticate(`bearer   ${await hs256()}  `);
      expect(result.principal).toEqual({ userId: 'alice', isOperator: false });
    });

    it.each([
      ['an array containing operator', ['admin', 'operator']],
      ['the array of operator alone', ['operator']],
    ])('marks the caller an operator when roles is %s', async (_case, roles) => {
      const result = await authenticate(bearer(await hs256({ roles })));
      expect(result.principal).toEqual({ userId: 'alice', isOperator: true });
    });

    it.each([
      ['absent', undefined],
      ['an empty array', []],
      ['an array without operator', ['admin', 'member']],
      ['an array naming a longer role', ['operators']],
      ['an array naming a role that only contains the word', ['super-operator', 'not operator']],
      ['an array whose element differs in letter case', ['Operator', 'OPERATOR']],
      ['an array whose element has white space around the word', [' operator', 'operator ']],
    ])('does not mark the caller an operator when roles is %s', async (_case, roles) => {
      const result = await authenticate(bearer(await hs256({ roles })));
      expect(result.principal).toEqual({ userId: 'alice', isOperator: false });
    });

    it.each([
      ['the string "not operator"', 'not operator'],
      ['the string "operator"', 'operator'],
      ['a space separated string containing operator', 'admin operator'],
      ['a comma separated string containing operator', 'admin,operator'],
      ['an empty string', ''],
      ['null', null],
      ['a number', 1],
      ['true', true],
      ['an object', { operator: true }],
      ['an array holding a number beside operator', ['operator', 1]],
      ['an array holding null', [null]],
      ['an array holding an array of operator', [['operator']]],
      ['an array holding an object', [{ role: 'operator' }]],
    ])('rejects a token whose roles is %s as malformed', async (_case, roles) => {
      const token = await hs256({ roles });
      expectRejected(await authenticate(bearer(token)), token, /^The token is not valid: roles must be an array of strings$/);
    });

    it('accepts a token that expired within the 30 second clock tolerance', async () => {
      const result = await authenticate(bearer(await hs256({ exp: now() - 10 })));
      expect(result.principal).toEqual({ userId: 'alice', isOperator: false });
    });

    it('refuses a token it accepted before once the token has expired', async () => {
      const token = await hs256({ exp: now() + 5 });
      expect((await authenticate(bearer(token))).principal).toEqual({ userId: 'alice', isOperator: false });
      // The clock only (jose reads it through new Date()); timers and promises run as usual.
      jest.useFakeTimers({ now: Date.now() + 40_000, doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'queueMicrotask'] });
      try {
        expectRejected(await authenticate(bearer(token)), token, /^The token has expired$/);
      } finally {
        jest.useRealTimers();
      }
    });

    it('checks a token it accepted before anew after a minute', async () => {
      const keys = createAuthenticator({ jwtSecret: SECRET, jwksUrl: undefined, maxTtlSeconds: 3600 });
      const token = await hs256({ exp: now() + 3000 });
      expect((await keys(bearer(token))).principal).not.toBeNull();
      // The clock only (jose reads it through new Date()); timers and promises run as usual.
      jest.useFakeTimers({ now: Date.now() + 61_000, doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'queueMicrotask'] });
      try {
        // Still valid: accepted after a fresh check (its exp is 50 minutes ahead, within the maximum).
        expect((await keys(bearer(token))).principal).toEqual({ userId: 'alice', isOperator: false });
      } finally {
        jest.useRealTimers();
      }
    });

    it('rejects a request without an Authorization header', async () => {
      expectRejected(await authenticate(undefined), undefined, /Authentication required/);
      expectRejected(await authenticate(''), undefined, /Authentication required/);
    });

    it.each([
      ['a Basic header', (token: string) => `Basic ${token}`],
      ['a bare token', (token: string) => token],
      ['Bearer with two tokens', (token: string) => `Bearer ${token} ${token}`],
      ['Bearer without a token', () => 'Bearer '],
    ])('rejects %s as not a Bearer header, without echoing the token', async (_case, header) => {
      const token = await hs256();
      expectRejected(await authenticate(header(token)), token, /must be "Bearer <token>"/);
    });

    it.each([
      ['a word', 'garbage'],
      ['three dotted segments of garbage', 'not.a.jwt-at-all-1234567890'],
      ['a truncated token', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9'],
    ])('rejects a garbage token (%s) without echoing it', async (_case, token) => {
      expectRejected(await authenticate(bearer(token)), token, NOT_VALID);
    });

    it('rejects a token signed with another secret', async () => {
      const token = await hs256({}, OTHER_SECRET);
      expectRejected(await authenticate(bearer(token)), token, NOT_VALID);
    });

    it('rejects a token whose signature was tampered with', async () => {
      const [header, , signature] = (await hs256()).split('.');
      const payload = Buffer.from(JSON.stringify({ sub: 'mallory', exp: now() + 3600, roles: ['operator'] })).toString('base64url');
      const forged = `${header}.${payload}.${signature}`;
      expectRejected(await authenticate(bearer(forged)), forged, NOT_VALID);
    });

    it('rejects a token that expired beyond the 30 second clock tolerance, saying it expired', async () => {
      const token = await hs256({ exp: now() - 120 });
      expectRejected(await authenticate(bearer(token)), token, /^The token has expired$/);
    });

    it('rejects a token without sub', async () => {
      const token = await hs256({ sub: undefined });
      expectRejected(await authenticate(bearer(token)), token, NOT_VALID);
    });

    it.each([
      ['empty', ''],
      ['longer than a user id may be (201 characters)', 'u'.repeat(201)],
      ['a number', 42],
      ['an array', ['alice']],
      ['a single space', ' '],
      ['only white space (tab, new line, no-break and ideographic spaces)', '\t\n \u00a0\u3000'],
      ['holding a NUL', 'ali\u0000ce'],
      ['a NUL alone', '\u0000'],
      ['holding a bell (C0 control)', 'alice\u0007'],
      ['holding DEL', 'alice\u007f'],
      ['holding a next line (C1 control)', 'alice\u0085'],
      ['holding an escape sequence', 'alice\u001b[31m'],
      ['holding a zero-width space', 'ali\u200bce'],
      ['holding a right-to-left override', 'alice\u202etxt.exe'],
      ['holding a byte order mark', '\ufeffalice'],
      ['holding a lone surrogate', 'alice\ud800'],
      ['holding a line separator', 'alice\u2028admin'],
    ])('rejects a token whose sub is %s', async (_case, sub) => {
      const token = await hs256({ sub });
      expectRejected(await authenticate(bearer(token)), token, NOT_VALID);
    });

    it.each([
      ['200 characters, the longest a user id may be', 'u'.repeat(200)],
      ['200 characters beyond the Basic Multilingual Plane (400 UTF-16 units)', '\u{1F642}'.repeat(200)],
      ['letters of other scripts', 'józef-ßøł-名前'],
      ['an email address', 'alice@example.com'],
      ['a provider-prefixed id', 'auth0|5f7c8ec7c33c6c004bbafe82'],
    ])('accepts a sub that is %s', async (_case, sub) => {
      const result = await authenticate(bearer(await hs256({ sub })));
      expect(result).toEqual({ principal: { userId: sub, isOperator: false } });
    });

    it('rejects a token without exp', async () => {
      const token = await hs256({ exp: undefined });
      expectRejected(await authenticate(bearer(token)), token, NOT_VALID);
    });

    it.each([
      ['a string', String(now() + 3600)],
      ['null', null],
    ])('rejects a token whose exp is %s', async (_case, exp) => {
      const token = await hs256({ exp });
      expectRejected(await authenticate(bearer(token)), token, NOT_VALID);
    });

    it('accepts, by default, a token whose exp lies a day ahead, and rejects one that lies further', async () => {
      expect((await authenticate(bearer(await hs256({ exp: now() + 86_400 })))).principal).toEqual({ userId: 'alice', isOperator: false });
      for (const exp of [now() + 86_400 + 120, now() + 30 * 86_400, now() + 10 * 365 * 86_400, Number.MAX_SAFE_INTEGER]) {
        const token = await hs256({ exp, roles: ['operator'] });
        expectRejected(await authenticate(bearer(token)), token, /^The token is not valid: exp lies further ahead than tokens may live$/);
      }
    });

    it('holds exp to the configured maximum lifetime', async () => {
      const strict = createAuthenticator({ jwtSecret: SECRET, jwksUrl: undefined, maxTtlSeconds: 3600 });
      expect((await strict(bearer(await hs256({ exp: now() + 3600 })))).principal).toEqual({ userId: 'alice', isOperator: false });
      const token = await hs256({ exp: now() + 2 * 3600 });
      expectRejected(await strict(bearer(token)), token, NOT_VALID);
    });

    it('rejects an unsigned token (alg none)', async () => {
      const token = new UnsecuredJWT({ sub: 'alice', roles: ['operator'] }).setExpirationTime('1h').encode();
      expect(token.endsWith('.')).toBe(true);
      expectRejected(await authenticate(bearer(token)), token, NOT_VALID);
    });

    it('rejects a token whose header says alg none but which carries the HS256 signature', async () => {
      const signed = await hs256({ roles: ['operator'] });
      const [, payload, signature] = signed.split('.');
      const token = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.${signature}`;
      expectRejected(await authenticate(bearer(token)), token, NOT_VALID);
    });

    it('accepts only tokens of the configured issuer and audience when they are set', async () => {
      const strict = createAuthenticator({ jwtSecret: SECRET, jwksUrl: undefined, issuer: 'https://idp.example', audience: 'byom' });
      const good = await hs256({ iss: 'https://idp.example', aud: 'byom' });
      expect(await strict(bearer(good))).toEqual({ principal: { userId: 'alice', isOperator: false } });
      for (const claims of [{ iss: 'https://other.example', aud: 'byom' }, { iss: 'https://idp.example', aud: 'another-app' }, {}]) {
        const token = await hs256({ ...claims, roles: ['operator'] });
        expectRejected(await strict(bearer(token)), token, NOT_VALID);
      }
    });

    it('rejects an RS256 token when no key set is configured', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const token = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).setExpirationTime('1h').sign(privateKey);
      expectRejected(await authenticate(bearer(token)), token, NOT_VALID);
    });
  });

  describe('with a JWKS URL', () => {
    let server: Server;
    let jwksUrl: string;
    let jwksRequests = 0;
    const keys: JWK[] = [];
    let rsaKey: CryptoKey;
    let ecKey: CryptoKey;

    beforeAll(async () => {
      const rsa = await generateKeyPair('RS256');
      const ec = await generateKeyPair('ES256');
      rsaKey = rsa.privateKey;
      ecKey = ec.privateKey;
      keys.push(
        { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
        { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
      );
      server = createServer((request, response) => {
        jwksRequests += 1;
        if (request.url !== '/.well-known/jwks.json') {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    });

    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    const sign = (key: CryptoKey, alg: 'RS256' | 'ES256', kid: string, claims: JWTPayload = {}) =>
      new SignJWT({ sub: 'carol', ...claims }).setProtectedHeader({ alg, kid, typ: 'JWT' }).setExpirationTime('1h').sign(key);

    it('accepts an RS256 token signed by a key of the set', async () => {
      const authenticate = createAuthenticator({ jwtSecret: undefined, jwksUrl });
      const result = await authenticate(bearer(await sign(rsaKey, 'RS256', 'rsa-1', { roles: ['operator'] })));
      expect(result).toEqual({ principal: { userId: 'carol', isOperator: true } });
      expect(jwksRequests).toBeGreaterThan(0);
    });

    it('accepts an ES256 token signed by a key of the set', async () => {
      const authenticate = createAuthenticator({ jwtSecret: undefined, jwksUrl });
      const result = await authenticate(bearer(await sign(ecKey, 'ES256', 'ec-1')));
      expect(result).toEqual({ principal: { userId: 'carol', isOperator: false } });
    });

    it('accepts both HS256 tokens and key-set tokens when both are configured', async () => {
      const authenticate = createAuthenticator({ jwtSecret: SECRET, jwksUrl });
      expect((await authenticate(bearer(await hs256()))).principal).toEqual({ userId: 'alice', isOperator: false });
      expect((await authenticate(bearer(await sign(ecKey, 'ES256', 'ec-1')))).principal).toEqual({ userId: 'carol', isOperator: false });
    });

    it('rejects a token signed by another key pair that claims the kid of a key of the set', async () => {
      const authenticate = createAuthenticator({ jwtSecret: undefined, jwksUrl });
      const impostor = await generateKeyPair('RS256');
      const token = await sign(impostor.privateKey, 'RS256', 'rsa-1', { roles: ['operator'] });
      expectRejected(await authenticate(bearer(token)), token, NOT_VALID);
    });

    it('rejects an ES256 token signed by another key pair that claims the kid of a key of the set', async () => {
      const authenticate = createAuthenticator({ jwtSecret: undefined, jwksUrl });
      const impostor = await generateKeyPair('ES256');
      const token = await sign(impostor.privateKey, 'ES256', 'ec-1');
      expectRejected(await authenticate(bearer(token)), token, NOT_VALID);
    });

    it('rejects a token whose kid is not in the set', async () => {
      const authenticate = createAuthenticator({ jwtSecret: undefined, jwksUrl });
      const token = await sign(rsaKey, 'RS256', 'unknown-kid');
      expectRejected(await authenticate(bearer(token)), token, NOT_VALID);
    });

    it('checks the claims of key-set tokens as strictly as those of HS256 tokens', async () => {
      const authenticate = createAuthenticator({ jwtSecret: undefined, jwksUrl });
      for (const claims of [{ roles: 'operator' }, { sub: 'car\u0000ol' }, { sub: '  ' }]) {
        const token = await sign(rsaKey, 'RS256', 'rsa-1', claims as JWTPayload);
        expectRejected(await authenticate(bearer(token)), token, NOT_VALID);
      }
      const farAhead = await new SignJWT({ sub: 'carol', exp: now() + 2 * 86_400 }).setProtectedHeader({ alg: 'ES256', kid: 'ec-1' }).sign(ecKey);
      expectRejected(await authenticate(bearer(farAhead)), farAhead, NOT_VALID);
    });

    it('rejects an expired RS256 token, saying it expired', async () => {
      const authenticate = createAuthenticator({ jwtSecret: undefined, jwksUrl });
      const token = await new SignJWT({ sub: 'carol', exp: now() - 120 }).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(rsaKey);
      expectRejected(await authenticate(bearer(token)), token, /^The token has expired$/);
    });

    it('says the token cannot be checked, and logs why, when the key set is unreachable', async () => {
      const unreachable = createAuthenticator({ jwtSecret: undefined, jwksUrl: 'http://127.0.0.1:9/jwks.json' });
      const logged: unknown[] = [];
      const log = { error: (...args: unknown[]) => logged.push(args) } as never;
      const token = await sign(rsaKey, 'RS256', 'rsa-1');
      expectRejected(await unreachable(bearer(token), () => log), token, /^The token cannot be checked right now/);
      expect(logged).toHaveLength(1);
    });

    it('rejects an HS256 token when only AUTH_JWKS_URL is configured, without fetching the key set', async () => {
      const authenticate = createAuthenticator({ jwtSecret: undefined, jwksUrl });
      const before = jwksRequests;
      const token = await hs256({ roles: ['operator'] });
      expectRejected(await authenticate(bearer(token)), token, NOT_VALID);
      expect(jwksRequests).toBe(before);
    });

    it('rejects an unsigned token (alg none) when only AUTH_JWKS_URL is configured', async () => {
      const authenticate = createAuthenticator({ jwtSecret: undefined, jwksUrl });
      const token = new UnsecuredJWT({ sub: 'alice' }).setExpirationTime('1h').encode();
      expectRejected(await authenticate(bearer(token)), token, NOT_VALID);
    });
  });
});

describe('signDevToken', () => {
  const authenticate = createAuthenticator({ jwtSecret: SECRET, jwksUrl: undefined });

  it('makes a token that the authenticator accepts, for the given user and without the operator role', async () => {
    const token = await signDevToken(SECRET, { sub: 'dev-user' });
    expect(await authenticate(bearer(token))).toEqual({ principal: { userId: 'dev-user', isOperator: false } });
    expect(decodeJwt(token).roles).toEqual([]);
  });

  it('carries the operator role when asked', async () => {
    const token = await signDevToken(SECRET, { sub: 'dev-ops', operator: true });
    expect(await authenticate(bearer(token))).toEqual({ principal: { userId: 'dev-ops', isOperator: true } });
    expect(decodeJwt(token).roles).toEqual(['operator']);
  });

  it('expires after 12 hours by default and after the given ttl otherwise', async () => {
    const byDefault = decodeJwt(await signDevToken(SECRET, { sub: 'dev-user' }));
    expect(byDefault.exp! - byDefault.iat!).toBe(12 * 3600);
    const short = decodeJwt(await signDevToken(SECRET, { sub: 'dev-user', ttl: '5m' }));
    expect(short.exp! - short.iat!).toBe(300);
  });

  it('makes, with its default 12 hours, a token within the default AUTH_JWT_MAX_TTL of a day', async () => {
    const strict = createAuthenticator({ jwtSecret: SECRET, jwksUrl: undefined, maxTtlSeconds: parseConfig({}).auth.maxTtlSeconds });
    expect((await strict(bearer(await signDevToken(SECRET, { sub: 'dev-user' })))).principal).toEqual({ userId: 'dev-user', isOperator: false });
    const tooLong = await signDevToken(SECRET, { sub: 'dev-user', ttl: '25h' });
    expectRejected(await strict(bearer(tooLong)), tooLong, NOT_VALID);
  });

  it('makes a token that another secret does not accept', async () => {
    const token = await signDevToken(OTHER_SECRET, { sub: 'dev-user', operator: true });
    expectRejected(await authenticate(bearer(token)), token, NOT_VALID);
  });
});
