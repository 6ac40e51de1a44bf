import pino from 'pino';

export type Logger = pino.Logger;

/**
 * An error as the logs show it: what and where, never the data it carried (a failed statement's
 * parameters, the driver's detail with row values, a request's variables).
 */
export function serializeError(error: unknown): Record<string, unknown> {
  // An Error, or the plain object the standard serializer already made of one (src/request-log.ts).
  if (typeof error !== 'object' || error === null) return { message: String(error) };
  const { type, name, message, code, stack } = error as Record<string, unknown>;
  return { type: type ?? name, message: String(message), ...(typeof code === 'string' ? { code } : {}), stack };
}

export interface LoggerOptions {
  /** Where lines go; stdout by default. */
  destination?: pino.DestinationStream;
  /** Readable lines for a developer's terminal instead of JSON. */
  pretty?: boolean;
  /**
   * Lines to stdout are written without blocking, those that come while a write is under way
   * together in the next one (the service's: a line per request would otherwise be a system call
   * per request); pino writes what is left synchronously when the process exits, process.exit()
   * and a crash included.
   */
  buffered?: boolean;
}

/**
 * JSON logs on stdout (or readable lines, for a developer). Authorization headers and cookies
 * are redacted wherever they appear; provider keys are never handed to the logger in the first
 * place.
 */
export function createLogger(level: string, { destination: given, pretty = false, buffered = false }: LoggerOptions = {}): Logger {
  const destination = given ?? (buffered ? pino.destination({ dest: 1, sync: false }) : undefined);
  return pino(
    {
      level,
      base: { service: 'byom-subgraph' },
      serializers: { err: serializeError },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization'],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pretty ? prettyStream(destination) : destination,
  );
}

function prettyStream(destination: pino.DestinationStream | undefined): pino.DestinationStream {
  // Loaded only when asked for: production never needs it.
  const { build } = require('pino-pretty') as typeof import('pino-pretty');
  return build({
    colorize: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    singleLine: true,
    destination: destination ?? 1,
    sync: true,
  });
}
