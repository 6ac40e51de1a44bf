import type { BaseContext, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import type { ServerResponse } from 'node:http';
import type { DataSource } from 'typeorm';
import { ErrorCode } from '../errors';
import type { Logger } from '../logger';
import type { RequestListener, RequestPlugin } from '../request-plugins';
import { databaseFault } from './faults';
import { OutageLog } from './outage-log';
import { createReadinessCheck, type Readiness, type ReadinessCheck } from './readiness';

/** What the server asks of the database beside its queries: readiness, and the outage log. */
export interface DatabaseHealth {
  readiness: ReadinessCheck;
  outages: OutageLog;
}

/** Seconds a client is told to wait (`Retry-After`) when the database left nothing to answer. */
export const RETRY_AFTER_SECONDS = 1;

const registered = new WeakMap<DataSource, DatabaseHealth>();

/** openDatabase() gives its data source the readiness check and outage log that it closes. */
export function attachHealth(dataSource: DataSource, health: DatabaseHealth): void {
  registered.set(dataSource, health);
}

/**
 * The health of the database behind `dataSource`: what openDatabase() attached, else (a data
 * source opened otherwise) a check through its own pool and an outage log on `logger`.
 */
export function healthOf(dataSource: DataSource, logger: Logger): DatabaseHealth {
  let health = registered.get(dataSource);
  if (!health) {
    const readiness = createReadinessCheck({ dataSource });
    const outages = new OutageLog({ logger: logger.child({ component: 'database' }), probe: () => answers(readiness) });
    health = { readiness, outages };
    registered.set(dataSource, health);
  }
  return health;
}

/** True when the database answered the readiness statement (whatever it said of migrations). */
export async function answers(readiness: ReadinessCheck): Promise<boolean> {
  const { fault } = await readiness.check();
  return fault === undefined;
}

/** /readyz: the readiness check, whose database faults the outage log also hears of. */
export async function checkReadiness(health: DatabaseHealth): Promise<Readiness> {
  const result = await health.readiness.check();
  if (result.fault) health.outages.record(result.fault, 'readiness');
  return result;
}

/**
 * Answers with nothing but SERVICE_UNAVAILABLE errors and no data get HTTP 503 with
 * `Retry-After`; a request that failed on a database fault is counted by the outage log (once,
 * however many of its fields failed).
 */
export function serviceUnavailablePlugin(health: DatabaseHealth): RequestPlugin<BaseContext> {
  const listener: RequestListener<BaseContext> = {
    didEncounterErrors({ errors }) {
      for (const error of errors) {
        const fault = databaseFault(error.originalError ?? error);
        if (fault) {
          health.outages.record(fault, 'request');
          return;
        }
      }
    },
    willSendResponse({ response }: GraphQLRequestContextWillSendResponse<BaseContext>) {
      if (response.body.kind !== 'single') return;
      const { data, errors } = response.body.singleResult;
      if (!errors?.length || !errors.every((error) => error.extensions?.code === ErrorCode.SERVICE_UNAVAILABLE)) return;
      // Nothing computed: no data, or only root fields that are null for a failure at their path.
      const failedRoots = new Set(errors.map((error) => error.path?.[0]));
      const nothing = data == null || Object.entries(data).every(([key, value]) => value === null && failedRoots.has(key));
      if (!nothing) return;
      response.http.status = 503;
      response.http.headers.set('retry-after', String(RETRY_AFTER_SECONDS));
    },
  };
  return { requestDidStart: () => listener };
}

/**
 * A 503 that told the client to retry later: the outage log counts these, so the request log
 * keeps them below `info` instead of an error line (with a stack) for each.
 */
export const isRetryLater = (res: ServerResponse): boolean => res.statusCode === 503 && res.hasHeader('retry-after');
