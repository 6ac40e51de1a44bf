import pino from 'pino';

export type Logger = pino.Logger;

/**
 * JSON logs on stdout. Authorization headers and cookies are redacted wherever they appear;
 * provider keys are never handed to the logger in the first place.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'byom-subgraph' },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization'],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
