// The statistics of the benchmarks that report distributions: nearest-rank percentiles and seeded
// Poisson arrivals, small enough to check by hand (stats.test.ts).

/** The nearest-rank percentile: the smallest value with at least p % of the values at or below it. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  if (!(p > 0 && p <= 100)) throw new RangeError("p must be in (0, 100]");
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1] as number;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
}

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  return { n: values.length, mean: mean(values), p50: percentile(values, 50), p99: percentile(values, 99), max: values.length ? Math.max(...values) : Number.NaN };
}

/** Arrival times (ms from 0) of a Poisson stream: exponential gaps drawn from `random` (uniform in [0, 1)). */
export function poissonArrivals(perHour: number, count: number, random: () => number): number[] {
  const meanGapMs = 3_600_000 / perHour;
  const times: number[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    t += -Math.log(1 - random()) * meanGapMs;
    times.push(t);
  }
  return times;
}
