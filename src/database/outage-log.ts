import type { Logger } from '../logger';
import type { DatabaseFault } from './faults';

export interface OutageLogOptions {
  logger: Logger;
  /** Asked, while the database is down and nothing failed for a moment, whether it answers again. */
  probe: () => Promise<boolean>;
  /** How often a line says that the database is still down, with the requests failed since the last one. */
  reportIntervalMs?: number;
  /** How often, while down, the log looks for recovery. */
  probeIntervalMs?: number;
  now?: () => number;
}

/** What failed: a request (counted), or an idle pooled connection or a readiness check (not counted). */
export type FailedWork = 'request' | 'connection' | 'readiness';

export const OUTAGE_REPORT_INTERVAL_MS = 10_000;
export const OUTAGE_PROBE_INTERVAL_MS = 1_000;

/**
 * The log of database outages: the first failure is logged at once (one line, no stack), then one
 * line per interval while it lasts with the number of requests that failed meanwhile, then one line
 * when the database answers again. Requests that fail during an outage log nothing of their own.
 *
 * "Answers again" means: nothing failed for a probe interval, and then the probe (the readiness
 * statement) succeeded. So a lock that makes every request on one table time out keeps the
 * outage open for as long as such requests keep failing.
 */
export class OutageLog {
  private readonly logger: Logger;
  private readonly probe: () => Promise<boolean>;
  private readonly reportIntervalMs: number;
  private readonly probeIntervalMs: number;
  private readonly now: () => number;

  private downSince: number | undefined;
  private lastFault: DatabaseFault | undefined;
  private lastFailureAt = 0;
  private lastReportAt = 0;
  private failedRequests = 0;
  private failedSinceReport = 0;
  private probing = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor({ logger, probe, reportIntervalMs = OUTAGE_REPORT_INTERVAL_MS, probeIntervalMs = OUTAGE_PROBE_INTERVAL_MS, now = Date.now }: OutageLogOptions) {
    this.logger = logger;
    this.probe = probe;
    this.reportIntervalMs = reportIntervalMs;
    this.probeIntervalMs = probeIntervalMs;
    this.now = now;
  }

  get down(): boolean {
    return this.downSince !== undefined;
  }

  record(fault: DatabaseFault, what: FailedWork): void {
    if (this.closed) return;
    const now = this.now();
    this.lastFault = fault;
    this.lastFailureAt = now;
    if (what === 'request') {
      this.failedRequests += 1;
      this.failedSinceReport += 1;
    }
    if (this.downSince !== undefined) return;
    this.downSince = now;
    this.lastReportAt = now;
    this.logger.error(
      { database: describe(fault), failed: what },
      `database unavailable: ${fault.reason}; requests get SERVICE_UNAVAILABLE until it answers again`,
    );
    this.timer = setInterval(() => this.tick(), this.probeIntervalMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    this.stopTimer();
  }

  private tick(): void {
    const since = this.downSince;
    if (since === undefined || this.closed) return;
    const now = this.now();
    if (now - this.lastReportAt >= this.reportIntervalMs) {
      const seconds = Math.round((now - this.lastReportAt) / 1000);
      this.logger.warn(
        {
          database: describe(this.lastFault as DatabaseFault),
          failedRequests: this.failedSinceReport,
          totalFailedRequests: this.failedRequests,
          downForMs: now - since,
        },
        `database still unavailable: ${this.failedSinceReport} failed request(s) in the last ${seconds} s`,
      );
      this.lastReportAt = now;
      this.failedSinceReport = 0;
    }
    if (this.probing || now - this.lastFailureAt < this.probeIntervalMs) return;
    this.probing = true;
    const probedAt = now;
    this.probe()
      .catch(() => false)
      .then((answers) => {
        this.probing = false;
        // Something failed while the probe ran: not over yet.
        if (!answers || this.closed || this.downSince !== since || this.lastFailureAt >= probedAt) return;
        const downForMs = this.now() - since;
        this.logger.info(
          { downForMs, totalFailedRequests: this.failedRequests },
          `database available again after ${(downForMs / 1000).toFixed(1)} s; ${this.failedRequests} request(s) failed meanwhile`,
        );
        this.downSince = undefined;
        this.failedRequests = 0;
        this.failedSinceReport = 0;
        this.stopTimer();
      });
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

const describe = (fault: DatabaseFault) => ({ kind: fault.kind, reason: fault.reason, ...(fault.code ? { code: fault.code } : {}) });
