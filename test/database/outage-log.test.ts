import { Writable } from 'node:stream';
import type { DatabaseFault } from '../../src/database/faults';
import { OutageLog } from '../../src/database/outage-log';
import { createLogger } from '../../src/logger';

const REFUSED: DatabaseFault = { kind: 'unreachable', reason: 'connection refused', code: 'ECONNREFUSED' };

function setUp() {
  const lines: Record<string, any>[] = [];
  const logger = createLogger('info', {
    destination: new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean).map((line) => JSON.parse(line)));
        done();
      },
    }),
  });
  let databaseAnswers = false;
  const log = new OutageLog({ logger, probe: async () => databaseAnswers, reportIntervalMs: 10_000, probeIntervalMs: 1_000 });
  return { lines, log, answer: (value: boolean) => (databaseAnswers = value) };
}

describe('the outage log', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('logs the first failure at once, one line per 10 s with the count meanwhile, and recovery once', async () => {
    const { lines, log, answer } = setUp();
    log.record(REFUSED, 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, database: { reason: 'connection refused', code: 'ECONNREFUSED' } });
    expect(lines[0].msg).toMatch(/^database unavailable: connection refused/);

    // 25 s of 10 failed requests a second.
    for (let second = 0; second < 25; second += 1) {
      for (let i = 0; i < 10; i += 1) log.record(REFUSED, 'request');
      await jest.advanceTimersByTimeAsync(1_000);
    }
    const reports = lines.filter((line) => /still unavailable/.test(line.msg));
    expect(reports.map((line) => line.failedRequests)).toEqual([101, 100]);
    expect(reports[1]).toMatchObject({ level: 40, totalFailedRequests: 201 });
    expect(lines).toHaveLength(3);

    answer(true);
    await jest.advanceTimersByTimeAsync(3_000);
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatchObject({ level: 30, totalFailedRequests: 251 });
    expect(lines[3].msg).toMatch(/^database available again after \d+\.\d s; 251 request\(s\) failed meanwhile$/);
    expect(log.down).toBe(false);
    expect(lines.some((line) => 'stack' in line || 'err' in line)).toBe(false);

    // Nothing more once recovered; a new failure is a new outage, logged at once.
    await jest.advanceTimersByTimeAsync(30_000);
    expect(lines).toHaveLength(4);
    log.record(REFUSED, 'request');
    expect(lines).toHaveLength(5);
    log.close();
  });

  it('stays down while requests keep failing, though the probe answers (a lock on one table)', async () => {
    const { lines, log, answer } = setUp();
    answer(true);
    const lock: DatabaseFault = { kind: 'timeout', reason: 'lock timeout', code: '55P03' };
    for (let tick = 0; tick < 36; tick += 1) {
      log.record(lock, 'request');
      await jest.advanceTimersByTimeAsync(250);
    }
    expect(log.down).toBe(true);
    expect(lines.map((line) => line.msg)).toEqual([expect.stringMatching(/^database unavailable: lock timeout/)]);
    await jest.advanceTimersByTimeAsync(2_500);
    expect(log.down).toBe(false);
    log.close();
  });

  it('says the database is still down every interval while no request comes and the probe fails', async () => {
    const { lines, log } = setUp();
    log.record(REFUSED, 'connection');
    await jest.advanceTimersByTimeAsync(30_500);
    expect(lines.map((line) => line.failedRequests)).toEqual([undefined, 0, 0, 0]);
    log.close();
    await jest.advanceTimersByTimeAsync(30_000);
    expect(lines).toHaveLength(4);
  });
});
