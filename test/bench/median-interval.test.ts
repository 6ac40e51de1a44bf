import { medianIntervalRanks, mulberry32 } from './support';

describe("the bench's confidence interval for a median (medianIntervalRanks)", () => {
  it('takes the ranks of the tables of the sign test', () => {
    // Fewer than six values: even the lowest and highest leave the median out more than 5% of the time.
    expect(medianIntervalRanks(5)).toBeUndefined();
    expect(medianIntervalRanks(6)).toEqual([1, 6]);
    expect(medianIntervalRanks(10)).toEqual([2, 9]);
    expect(medianIntervalRanks(16)).toEqual([4, 13]);
    expect(medianIntervalRanks(40)).toEqual([14, 27]);
  });

  it('covers the median of a distribution at least 95% of the time, and not much more', () => {
    // Rounds drawn from a known distribution (uniform on [0, 1], median 0.5) with a fixed seed.
    const random = mulberry32(42);
    for (const n of [10, 40]) {
      const [low, high] = medianIntervalRanks(n) as [number, number];
      let covered = 0;
      const trials = 4_000;
      for (let trial = 0; trial < trials; trial++) {
        const values = Array.from({ length: n }, random).sort((a, b) => a - b);
        if (values[low - 1] <= 0.5 && 0.5 <= values[high - 1]) covered += 1;
      }
      expect(covered / trials).toBeGreaterThanOrEqual(0.94);
      expect(covered / trials).toBeLessThan(0.995);
    }
  });
});
