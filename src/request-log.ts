import { randomUUID } from 'node:crypto';
import http from 'node:http';
import pino from 'pino';
import { loggedHeaders } from './http-limits';
import type { Logger } from './logger';
import { pathOf } from './request-target';
import { traceIdsOf } from './telemetry/telemetry';

declare module 'node:http' {
  interface IncomingMessage {
    /** The request's id (`x-request-id`), on each of its log lines. */
    id: string;
    /** The request's logger: each line carries the request, and its trace and span ids. */
    log: Logger;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export interface RequestLogOptions {
  /** Requests whose completion is not logged (polled routes). */
  ignore(req: http.IncomingMessage): boolean;
  /** The level of a request's last line, from its response (and the error it ended with). */
  level(res: http.ServerResponse, error: Error | undefined): pino.Level;
}

/** The request as its log lines show it: the path only (a query string may carry GraphQL variables). */
function shownRequest(req: http.IncomingMessage & { originalUrl?: string }) {
  return {
    id: req.id,
    method: req.method,
    url: pathOf(String(req.originalUrl || req.url)),
    headers: loggedHeaders(req.headers),
    remoteAddress: req.socket?.remoteAddress,
  };
}

const shownResponse = (res: http.ServerResponse) => ({ statusCode: res.headersSent ? res.statusCode : null, headers: res.getHeaders() });

const LOGGING = Symbol('request logging');

interface Logging {
  logger: Logger;
  bindings: Record<string, unknown>;
  log?: Logger;
}

/**
 * `req.log`, made when first read: a child logger serializes its bindings (the request, with the
 * redaction of its headers) when it is made, which a request that logs nothing but its last line
 * does not need; that line is written with the same fields by the service's logger itself.
 */
Object.defineProperty(http.IncomingMessage.prototype, 'log', {
  configurable: true,
  get(this: http.IncomingMessage & { [LOGGING]?: Logging }): Logger | undefined {
    const logging = this[LOGGING];
    if (!logging) return undefined;
    logging.log ??= logging.logger.child(logging.bindings);
    return logging.log;
  },
  set(this: http.IncomingMessage & { [LOGGING]?: Logging }, log: Logger) {
    this[LOGGING] = { logger: log, bindings: {}, log };
  },
});

/**
 * The request id (a given `x-request-id` that is a plain token, else a new UUID, echoed in the
 * response), the request's logger, and a line when it ends, as pino-http wrote them: the
 * request's lines carry `req` and its trace ids (traceIdsOf), the last one `res` and
 * `responseTime` with "request completed", "request aborted" or (an error, a 5xx) "request
 * errored" and `err`. pino-http did the same with a second child logger per request for the trace
 * ids, the standard serializers before the service's own, and the ids stringified again at the
 * end to compare them; and its child logger was made for every request, where here it is made
 * only for a request that logs more than its last line (`req.log` read).
 */
export function requestLogging(logger: Logger, options: RequestLogOptions): (req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', id);
    req.id = id;
    const ids = traceIdsOf(req);
    const bindings: Record<string, unknown> = ids ? { req: shownRequest(req), ...ids } : { req: shownRequest(req) };
    (req as http.IncomingMessage & { [LOGGING]?: Logging })[LOGGING] = { logger, bindings };
    if (!options.ignore(req)) {
      const started = Date.now();
      let done = false;
      const ended = (error?: Error) => {
        if (done) return;
        done = true;
        const responseTime = Date.now() - started;
        const level = options.level(res, error);
        if (!logger.isLevelEnabled(level)) return;
        // The child's fields, then the line's, as a child logger writes them.
        if (error || res.statusCode >= 500) {
          const err = error ?? new Error(`failed with status code ${res.statusCode}`);
          logger[level]({ ...bindings, res: shownResponse(res), err: pino.stdSerializers.err(err), responseTime }, 'request errored');
        } else {
          logger[level]({ ...bindings, res: shownResponse(res), responseTime }, !req.readableAborted && res.writableEnded ? 'request completed' : 'request aborted');
        }
      };
      res.on('finish', () => ended());
      res.on('close', () => ended());
      res.on('error', ended);
    }
    next();
  };
}
