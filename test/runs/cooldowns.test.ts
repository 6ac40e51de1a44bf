import { retryAfterMs } from '../../src/providers/provider-clients';
import { COOLDOWN_MAX_MS, type Cooldown, isCooling, nextCooldown, orderByCooldowns } from '../../src/runs/cooldowns';

/** The cooldown rule (DESIGN.md section 7), without a provider or a database. */

const NOW = Date.parse('2026-12-01T12:00:00Z');
const at = (ms: number) => new Date(NOW + ms);
const cooldown = (ms: number, failures = 1, reason = 'RATE_LIMITED'): Cooldown => ({ until: at(ms), reason, failures });
const headers = (values: Record<string, string>) => (name: string) => values[name];

describe('retryAfterMs', () => {
  it('reads retry-after in seconds', () => {
    expect(retryAfterMs(headers({ 'retry-after': '30' }), NOW)).toBe(30_000);
    expect(retryAfterMs(headers({ 'retry-after': '1.5' }), NOW)).toBe(1_500);
  });

  it('prefers retry-after-ms, which both SDKs read', () => {
    expect(retryAfterMs(headers({ 'retry-after-ms': '250', 'retry-after': '30' }), NOW)).toBe(250);
  });

  it('reads an HTTP date as the time left until it', () => {
    expect(retryAfterMs(headers({ 'retry-after': new Date(NOW + 45_000).toUTCString() }), NOW)).toBe(45_000);
    expect(retryAfterMs(headers({ 'retry-after': new Date(NOW - 45_000).toUTCString() }), NOW)).toBe(0);
  });

  it('says nothing for a missing or unreadable header', () => {
    expect(retryAfterMs(headers({}), NOW)).toBeUndefined();
    expect(retryAfterMs(headers({ 'retry-after': 'soon' }), NOW)).toBeUndefined();
    expect(retryAfterMs(headers({ 'retry-after': '-5' }), NOW)).toBeUndefined();
  });
});

describe('nextCooldown', () => {
  it('cools until the provider\'s retry-after', () => {
    expect(nextCooldown(null, { reason: 'RATE_LIMITED', retryAfterMs: 30_000 }, NOW)).toEqual(cooldown(30_000));
  });

  it('caps a retry-after at 10 minutes', () => {
    expect(nextCooldown(null, { reason: 'RATE_LIMITED', retryAfterMs: 3_600_000 }, NOW).until).toEqual(at(COOLDOWN_MAX_MS));
  });

  it('doubles the default while the pair keeps failing: 30 s, 60 s, 120 s, … at most 10 minutes', () => {
    let previous: Cooldown | null = null;
    const lengths: number[] = [];
    for (let failure = 0; failure < 7; failure += 1) {
      // Each failure comes after the previous cooldown ended (the half-open try failed).
      const now = previous ? previous.until.getTime() : NOW;
      previous = nextCooldown(previous, { reason: 'OVERLOADED' }, now);
      lengths.push(previous.until.getTime() - now);
    }
    expect(lengths).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000]);
    expect(previous).toMatchObject({ failures: 7, reason: 'OVERLOADED' });
  });

  it('never moves an end earlier: a later retry-after of 1 s keeps the end of 30 s, and counts the failure', () => {
    const first = nextCooldown(null, { reason: 'RATE_LIMITED', retryAfterMs: 30_000 }, NOW);
    const second = nextCooldown(first, { reason: 'PROVIDER_UNAVAILABLE', retryAfterMs: 1_000 }, NOW + 5_000);
    expect(second).toEqual({ until: at(30_000), reason: 'RATE_LIMITED', failures: 2 });
  });

  it('moves an end later, with the reason that did', () => {
    const first = nextCooldown(null, { reason: 'RATE_LIMITED', retryAfterMs: 1_000 }, NOW);
    expect(nextCooldown(first, { reason: 'TIMEOUT' }, NOW + 500)).toEqual({ until: at(500 + 60_000), reason: 'TIMEOUT', failures: 2 });
  });
});

describe('isCooling', () => {
  it('cools before the end and is half-open from the end on', () => {
    expect(isCooling(cooldown(1), NOW)).toBe(true);
    expect(isCooling(cooldown(0), NOW)).toBe(false);
    expect(isCooling(null, NOW)).toBe(false);
  });
});

describe('orderByCooldowns', () => {
  it('keeps the plan when nothing cools', () => {
    expect(orderByCooldowns([null, null], NOW)).toEqual([
      { index: 0, cooling: false },
      { index: 1, cooling: false },
    ]);
  });

  it('passes over a cooling primary for the fallback', () => {
    expect(orderByCooldowns([cooldown(30_000), null], NOW)).toEqual([
      { index: 0, cooling: true },
      { index: 1, cooling: false },
    ]);
  });

  it('passes over a cooling fallback, keeping the primary first', () => {
    expect(orderByCooldowns([null, cooldown(30_000)], NOW)).toEqual([
      { index: 0, cooling: false },
      { index: 1, cooling: true },
    ]);
  });

  it('tries a pair again once its cooldown ended', () => {
    expect(orderByCooldowns([cooldown(-1), null], NOW)).toEqual([
      { index: 0, cooling: false },
      { index: 1, cooling: false },
    ]);
  });

  it('tries every candidate when all cool, the one ending first first', () => {
    expect(orderByCooldowns([cooldown(60_000), cooldown(10_000)], NOW)).toEqual([
      { index: 1, cooling: false },
      { index: 0, cooling: false },
    ]);
  });

  it('still tries a plan of one cooling candidate', () => {
    expect(orderByCooldowns([cooldown(60_000)], NOW)).toEqual([{ index: 0, cooling: false }]);
  });
});
