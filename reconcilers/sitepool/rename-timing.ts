// When a claim waiting on its rename looks again. The customer waits on that one task, and each
// look is a fresh server-status read, so the looks are spent where the end is likely: at the
// progress poll while the rename cannot be done yet, at the moment it is expected to be, then
// tightly for a while, and back at the progress poll if it runs far longer than expected.
// Pure, so the pool bench's model uses the same rule.

export interface RenameTiming {
  /** Until renames were observed: queued to finished (hosting-queued's pause and the migrate). */
  defaultEstimateMs: number;
  /** How often a claim looks once its rename is due. */
  tightPollMs: number;
  /** Renames remembered per server for the estimate. */
  remembered: number;
}

/**
 * The simulator's fresh-spare migrate (45 s, an UNCONFIRMED estimate) and hosting-queued's 1 s
 * pause; replaced by observed renames after the first one.
 */
export const DEFAULT_RENAME_TIMING: RenameTiming = { defaultEstimateMs: 46_000, tightPollMs: 1_000, remembered: 9 };

/**
 * Milliseconds until the next look, or undefined for the caller's progress poll.
 * `queuedAt`: when the rename was last known not to have started (queued by this claimer, or
 * seen still queued); `estimateMs`: how long renames take from there.
 */
export function nextRenameLook(now: number, queuedAt: number, estimateMs: number, timing: Pick<RenameTiming, "tightPollMs">): number | undefined {
  const due = queuedAt + estimateMs;
  if (now < due) return due - now;
  // Twice the estimate is no longer the rename as expected (a slow server, a hung task): the
  // regular progress poll does, rather than a read a second for as long as it takes.
  if (now < due + estimateMs) return timing.tightPollMs;
  return undefined;
}

/** The median of the renames observed on each server (queued to seen finished), else the default. */
export class RenameDurations {
  private readonly seen = new Map<string, number[]>();
  private readonly timing: RenameTiming;

  constructor(timing: RenameTiming = DEFAULT_RENAME_TIMING) {
    this.timing = timing;
  }

  observe(server: string, ms: number): void {
    if (!(ms > 0) || !Number.isFinite(ms)) return;
    const list = this.seen.get(server) ?? [];
    list.push(ms);
    if (list.length > this.timing.remembered) list.shift();
    this.seen.set(server, list);
  }

  estimate(server: string): number {
    const list = this.seen.get(server);
    if (list === undefined || list.length === 0) return this.timing.defaultEstimateMs;
    const sorted = [...list].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  }
}
