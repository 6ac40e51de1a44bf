/**
 * Where the service reads the time for cooldowns and retirement dates. Production uses the
 * system clock; tests hand createApp a clock they move (test/support), so that a 30 s cooldown
 * ends without waiting 30 s.
 */
export interface Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
