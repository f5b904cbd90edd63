// The statistics behind the warm-pool table: percentiles by hand, and the Poisson stream's rate.
import { expect, it } from "vitest";
import { Random } from "../harness/aegir/random.ts";
import { mean, percentile, poissonArrivals, summarize } from "./stats.ts";

it("takes nearest-rank percentiles", () => {
  const values = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
  expect(percentile(values, 50)).toBe(5);
  expect(percentile(values, 99)).toBe(10);
  expect(percentile(values, 10)).toBe(1);
  expect(percentile(values, 11)).toBe(2);
  expect(percentile([42], 99)).toBe(42);
  expect(percentile([], 50)).toBeNaN();
  expect(() => percentile(values, 0)).toThrow(/p must be/);
  // One slow value in a hundred is the p99, not beyond it.
  expect(percentile([...Array.from({ length: 99 }, () => 1), 100], 99)).toBe(1);
  expect(summarize([3, 1, 2])).toEqual({ n: 3, mean: 2, p50: 2, p99: 3, max: 3 });
  expect(mean([])).toBeNaN();
});

it("draws a Poisson stream at the asked rate, the same one for the same seed", () => {
  const draw = (seed: number) => {
    const r = new Random(seed);
    return poissonArrivals(10, 5_000, () => r.next());
  };
  const times = draw(3);
  expect(times).toEqual(draw(3));
  expect(times).not.toEqual(draw(4));
  const hours = (times.at(-1) as number) / 3_600_000;
  expect(5_000 / hours).toBeGreaterThan(9.5);
  expect(5_000 / hours).toBeLessThan(10.5);
  // Exponential gaps: about e^-1 of them exceed the mean gap (6 min).
  const gaps = times.map((t, i) => t - (times[i - 1] ?? 0));
  const long = gaps.filter((g) => g > 360_000).length / gaps.length;
  expect(long).toBeGreaterThan(0.34);
  expect(long).toBeLessThan(0.4);
  expect(times.every((t, i) => i === 0 || t >= (times[i - 1] as number))).toBe(true);
});
