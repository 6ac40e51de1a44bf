import pino from 'pino';

export type Logger = pino.Logger;

/**
 * An error as the logs show it: what and where, never the data it carried (a failed statement's
 * parameters, the driver's detail with row values, a request's variables).
 */
export function serializeError(error: unknown): Record<string, unknown> {
  // An Error, or (from pino-http) the plain object its standard serializer already made of one.
  if (typeof error !== 'object' || error === null) return { message: String(error) };
  const { type, name, message, code, stack } = error as Record<string, unknown>;
  return { type: type ?? name, message: String(message), ...(typeof code === 'string' ? { code } : {}), stack };
}

/**
 * JSON logs on stdout. Authorization headers and cookies are redacted wherever they appear;
 * provider keys are never handed to the logger in the first place.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
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
    destination,
  );
}
