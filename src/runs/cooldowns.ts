/**
 * The cooldown rule (DESIGN.md section 7), pure: how long a retriable failure cools a model on an
 * account (the provider's retry-after, read in src/providers, capped), and which candidates of a run's plan to pass
 * over while they cool. The run service reads and writes the cooldowns (src/connections).
 */

/** The first default cooldown; each further failure in a row doubles it. */
export const COOLDOWN_BASE_MS = 30_000;
/** No cooldown lasts longer, whatever the provider's retry-after says. */
export const COOLDOWN_MAX_MS = 600_000;

/** A pair's cooldown as stored: its end, why, and how many retriable failures in a row led there. */
export interface Cooldown {
  until: Date;
  reason: string;
  failures: number;
}

/**
 * The cooldown after a retriable failure of a pair that had `previous` (null: none): until the
 * provider's retry-after when it gave one, else the default for the failures in a row so far
 * (30 s, 60 s, 120 s, …), at most 10 minutes from now, and never earlier than the end it had.
 */
export function nextCooldown(previous: Cooldown | null, failure: { reason: string; retryAfterMs?: number }, now: number): Cooldown {
  const failures = (previous?.failures ?? 0) + 1;
  const wanted = failure.retryAfterMs ?? COOLDOWN_BASE_MS * 2 ** Math.min(failures - 1, 20);
  const end = now + Math.min(Math.max(wanted, 0), COOLDOWN_MAX_MS);
  if (previous && previous.until.getTime() >= end) return { ...previous, failures };
  return { until: new Date(end), reason: failure.reason, failures };
}

/** Whether a pair cools at `now`: it has a cooldown that has not ended (after its end it is half-open: tried again). */
export const isCooling = (cooldown: Cooldown | null | undefined, now: number): cooldown is Cooldown =>
  cooldown != null && cooldown.until.getTime() > now;

/**
 * The order in which a run tries its candidates (indexes into them), and which it passes over
 * because they cool. While some candidate does not cool, those that do are passed over (in plan
 * order); when every candidate cools, none is passed over and they are tried in the order their
 * cooldowns end (earliest first; plan order between equal ends), so a run never fails untried.
 */
export function orderByCooldowns(cooldowns: readonly (Cooldown | null | undefined)[], now: number): { index: number; cooling: boolean }[] {
  const all = cooldowns.map((cooldown, index) => ({ index, cooldown, cooling: isCooling(cooldown, now) }));
  if (all.some((candidate) => !candidate.cooling)) return all.map(({ index, cooling }) => ({ index, cooling }));
  return [...all]
    .sort((a, b) => (a.cooldown as Cooldown).until.getTime() - (b.cooldown as Cooldown).until.getTime() || a.index - b.index)
    .map(({ index }) => ({ index, cooling: false }));
}
