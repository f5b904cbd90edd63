// The task durations of a warm-pool benchmark, from the figures of real Aegir 3 servers: an Open
// Atrium 2 install takes about 2 minutes with the fast installer and 15-20 with the classic one,
// a clone of a complex site 1-5 minutes, a verify under 30 s; a migrate is a backup, a deploy and
// a verify, so it takes about what a clone does.
import { BENCHMARK_LATENCY, type LatencyOptions } from "./latency.ts";

export type Installer = "fast" | "classic";

export const INSTALL_MS: Record<Installer, number> = { fast: 120_000, classic: 15 * 60_000 };
export const CLONE_RANGE_MS = [60_000, 300_000] as const;

/** Benchmark latency with these durations; installs as the installer takes them. */
export function poolLatency(installer: Installer = "fast", timeFactor = 1): LatencyOptions {
  return {
    ...BENCHMARK_LATENCY,
    tasks: { ...BENCHMARK_LATENCY.tasks, install: INSTALL_MS[installer], verify: 25_000 },
    taskRanges: { clone: CLONE_RANGE_MS, migrate: CLONE_RANGE_MS },
    timeFactor,
  };
}
