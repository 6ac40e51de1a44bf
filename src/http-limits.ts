import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import zlib from 'node:zlib';
import type { RequestHandler } from 'express';
import type { HttpLimits } from './config';

/**
 * What one HTTP client may cost before GraphQL sees its request (DESIGN.md section 10): the
 * body's size, checked before it is read whole and after it is inflated; its nesting; the time
 * its headers and its whole request may take; the number of open connections.
 */

/** A request without a valid token holds at most this much body, however it is encoded. */
export const ANONYMOUS_BODY_LIMIT_BYTES = 64 * 1024;
/** Arrays and objects inside one another, at most (GraphQL variables need a handful). */
export const JSON_MAX_DEPTH = 64;

/** An HTTP server whose timeouts hold: Node checks them every second instead of every 30. */
export function createHttpServer(limits: HttpLimits, listener?: http.RequestListener): http.Server {
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: 1_000,
    },
    listener,
  );
  server.maxConnections = limits.maxConnections;
  return server;
}

/** Binds the server to the port; rejects with the system error (EADDRINUSE, …) when it cannot. */
export function listen(httpServer: http.Server, port: number, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    httpServer.once('error', onError);
    httpServer.listen(port, host, () => {
      httpServer.removeListener('error', onError);
      resolve();
    });
  });
}

/** An error the request-error handler answers with its status and code, in JSON. */
export class RequestRefused extends Error {
  readonly expose = true;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RequestRefused';
  }
}

export const bodyTooLarge = () => new RequestRefused(413, 'BAD_REQUEST', 'The request body is too large');

/**
 * Parses JSON bodies up to `limit` bytes (after inflating gzip, deflate or br). A larger
 * declared length is refused before a byte of it is read; a body that grows past the limit
 * while it streams is refused at that byte, and the rest is never read: the connection closes
 * once the 413 is written (body-parser would read it all off first, at the client's pace). A
 * body that nests deeper than JSON_MAX_DEPTH is refused before it is parsed.
 */
export function jsonBody(limit: number): RequestHandler {
  return (req, res, next) => {
    if (!/^application\/(.+\+)?json\b/i.test(req.headers['content-type'] ?? '') || req.method === 'GET' || req.method === 'HEAD') {
      // As body-parser leaves it: Apollo then answers (a GET query, or a CSRF refusal).
      req.body ??= {};
      next();
      return;
    }
    const declared = Number(req.headers['content-length']);
    const refuse = (error: Error) => {
      // Reading it off would cost its whole length: the connection goes instead.
      res.setHeader('connection', 'close');
      req.unpipe();
      req.pause();
      next(error);
    };
    if (Number.isFinite(declared) && declared > limit) {
      refuse(bodyTooLarge());
      return;
    }
    let source: NodeJS.ReadableStream;
    const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding === 'identity') source = req;
    else if (encoding === 'gzip' || encoding === 'x-gzip') source = req.pipe(zlib.createGunzip());
    else if (encoding === 'deflate') source = req.pipe(zlib.createInflate());
    else if (encoding === 'br') source = req.pipe(zlib.createBrotliDecompress());
    else {
      refuse(new RequestRefused(415, 'BAD_REQUEST', 'The request body is encoded in a way this service does not read'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      source.removeAllListeners('data');
      if (source !== req) (source as zlib.Zlib & NodeJS.ReadableStream & { destroy(): void }).destroy();
      if (error) {
        refuse(error);
        return;
      }
      const body = Buffer.concat(chunks, size);
      if (nestsDeeperThan(body, JSON_MAX_DEPTH)) {
        next(new RequestRefused(400, 'BAD_REQUEST', 'The request body nests too deep'));
        return;
      }
      try {
        req.body = size === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        next(new RequestRefused(400, 'BAD_REQUEST', 'The request body is not valid JSON'));
        return;
      }
      next();
    };
    source.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish(bodyTooLarge());
      else chunks.push(chunk);
    });
    source.on('end', () => finish());
    source.on('error', () => finish(new RequestRefused(400, 'BAD_REQUEST', 'The request body could not be read')));
    req.on('aborted', () => finish(new RequestRefused(400, 'BAD_REQUEST', 'The request body ended early')));
    if (source !== req) req.on('error', () => finish(new RequestRefused(400, 'BAD_REQUEST', 'The request body could not be read')));
  };
}

/** Whether JSON text nests arrays and objects deeper than `max`; strings are skipped. */
export function nestsDeeperThan(json: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const byte = json[i];
    if (inString) {
      if (byte === 0x5c) i++; // backslash: skip what it escapes
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) {
      inString = true;
    } else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > max) return true;
    } else if (byte === 0x5d || byte === 0x7d) {
      depth--;
    }
  }
  return false;
}

export const ROUTER_SECRET_HEADER = 'router-authorization';

/**
 * With ROUTER_SECRET set, only the router may call: every request must carry the secret in
 * `router-authorization`, compared in constant time (digests of equal length), before its body
 * is read.
 */
export function requireRouterSecret(secret: string): RequestHandler {
  const expected = createHash('sha256').update(secret).digest();
  return (req, _res, next) => {
    const given = req.headers[ROUTER_SECRET_HEADER];
    const digest = createHash('sha256').update(typeof given === 'string' ? given : '').digest();
    if (typeof given === 'string' && timingSafeEqual(digest, expected)) {
      next();
      return;
    }
    next(new RequestRefused(401, 'UNAUTHENTICATED', 'This service answers only its router'));
  };
}

/**
 * The request headers a log line may show (DESIGN.md section 10); no other header's value is
 * ever logged, whatever a client or a proxy adds.
 */
export const LOGGED_HEADERS = [
  'x-request-id',
  'traceparent',
  'tracestate',
  'user-agent',
  'content-type',
  'content-length',
  'content-encoding',
  'apollographql-client-name',
  'apollographql-client-version',
] as const;

export function loggedHeaders(headers: http.IncomingHttpHeaders): Record<string, string | string[]> {
  const shown: Record<string, string | string[]> = {};
  for (const name of LOGGED_HEADERS) {
    const value = headers[name];
    if (value !== undefined) shown[name] = value;
  }
  // Whether a token came is worth knowing; the token never is.
  if (headers.authorization !== undefined) shown.authorization = '[redacted]';
  return shown;
}
