// How long things take on the simulated server. Unit mode: nothing takes time. Benchmark
// mode: what research found for Aegir 3 / drush 8 — about a second of drush bootstrap and
// alias scanning per command, minutes per install, tens of seconds per verify, and
// hosting-queued's one-second pause before each task. Everything is scaled by timeFactor.
import type { TaskType } from "../../../reconcilers/aegir/state.ts";

export interface LatencyOptions {
  /** Base latency of every command (drush bootstrap), in ms. */
  commandMs?: number;
  /** Per-command overrides, by command name (`pm-enable`, `php-eval:site-state`). */
  commands?: Record<string, number>;
  /** Task durations by type, in ms; types not listed take `defaultTaskMs`. */
  tasks?: Partial<Record<TaskType, number>>;
  defaultTaskMs?: number;
  /** Task durations drawn uniformly from [min, max] ms (seeded), overriding `tasks`: clones and migrates vary with the site. */
  taskRanges?: Partial<Record<TaskType, readonly [number, number]>>;
  /** Durations of copying tasks (migrate, clone) on a freshly installed site (site-size.ts), overriding the two above. */
  freshSiteTasks?: Partial<Record<TaskType, number>>;
  /** hosting-queued sleeps this long before it starts each task. */
  taskStartDelayMs?: number;
  /** Multiplies every duration: 0.01 runs a benchmark-shaped load a hundred times faster. */
  timeFactor?: number;
}

export const UNIT_LATENCY: Required<LatencyOptions> = {
  commandMs: 0,
  commands: {},
  tasks: {},
  defaultTaskMs: 0,
  taskRanges: {},
  freshSiteTasks: {},
  taskStartDelayMs: 0,
  timeFactor: 1,
};

export const BENCHMARK_LATENCY: Required<LatencyOptions> = {
  commandMs: 1_000,
  // Full bootstraps that touch many modules cost more than a php-eval read.
  commands: { "pm-enable": 6_000, "pm-disable": 4_000, "php-eval:welcome-mail": 1_500 },
  tasks: { install: 180_000, verify: 30_000, backup: 20_000, delete: 45_000, disable: 15_000, enable: 15_000, migrate: 120_000 },
  defaultTaskMs: 30_000,
  taskRanges: {},
  freshSiteTasks: {},
  taskStartDelayMs: 1_000,
  timeFactor: 1,
};

export type LatencyPreset = "unit" | "benchmark";

export class Latency {
  private readonly options: Required<LatencyOptions>;
  private readonly random: () => number;

  constructor(options: LatencyOptions | LatencyPreset = "unit", random: () => number = () => 0.5) {
    this.random = random;
    const base = options === "benchmark" ? BENCHMARK_LATENCY : UNIT_LATENCY;
    const custom = typeof options === "string" ? {} : options;
    this.options = {
      ...base,
      ...custom,
      commands: { ...base.commands, ...custom.commands },
      tasks: { ...base.tasks, ...custom.tasks },
      taskRanges: { ...base.taskRanges, ...custom.taskRanges },
      freshSiteTasks: { ...base.freshSiteTasks, ...custom.freshSiteTasks },
    };
    if (!(this.options.timeFactor >= 0)) throw new RangeError("timeFactor must be a number >= 0");
  }

  command(name: string): number {
    return this.scale(this.options.commands[name] ?? this.options.commandMs);
  }

  /** A task's duration; `fresh`: the task's site is freshly installed (a copy of it is the smallest there is). */
  task(type: string, fresh = false): number {
    const small = fresh ? this.options.freshSiteTasks[type as TaskType] : undefined;
    if (small !== undefined) return this.scale(small);
    const range = this.options.taskRanges[type as TaskType];
    if (range !== undefined) return this.scale(range[0] + (range[1] - range[0]) * this.random());
    return this.scale(this.options.tasks[type as TaskType] ?? this.options.defaultTaskMs);
  }

  taskStartDelay(): number {
    return this.scale(this.options.taskStartDelayMs);
  }

  private scale(ms: number): number {
    return Math.round(ms * this.options.timeFactor);
  }
}
