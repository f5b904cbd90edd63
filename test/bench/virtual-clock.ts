// Virtual time for the day-2 benchmarks: hours of Aegir task queue in seconds of CPU.
import type { Clock } from "../harness/aegir/index.ts";

/** Timers in virtual time, run in order by step(). */
export class VirtualClock implements Clock {
  private t: number;
  private timers: Array<{ at: number; seq: number; fn: () => void }> = [];
  private seq = 0;

  constructor(start: number) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  schedule(fn: () => void, ms: number): () => void {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => (this.timers = this.timers.filter((x) => x !== timer));
  }

  /** Run the earliest timer; false when none is left before `until`. */
  step(until: number): boolean {
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = this.timers[0];
    if (next === undefined || next.at > until) return false;
    this.timers.shift();
    this.t = next.at;
    next.fn();
    return true;
  }
}
