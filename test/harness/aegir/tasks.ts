// The hostmaster's task queue as hosting-queued runs it: strictly one task at a time across
// the whole server, oldest first, a pause before each, each taking its type's duration. Beside
// it, the express lane: a queued task another process runs itself (`drush @hostmaster
// hosting-task <nid>`, started by run-task-beside) runs at once in its own slot.
import { DAY2_TASK_EFFECTS } from "./backups.ts";
import { type Clock, unixTime } from "./clock.ts";
import type { Latency } from "./latency.ts";
import { isFreshSite } from "./site-size.ts";
import { type Hostmaster, type TaskNode, SITE_DISABLED, TASK_FAILED, TASK_PROCESSING, TASK_QUEUED, TASK_SUCCESS } from "./model.ts";
import { TASK_EFFECTS, TaskFailure } from "./task-effects.ts";

export interface TaskQueueOptions {
  hostmaster: Hostmaster;
  clock: Clock;
  latency: Latency;
  /** false: tasks run only when the test calls drain(). */
  autoRun: boolean;
  /** An injected failure for this task, if any (its log message). */
  fault?: (task: TaskNode) => string | undefined;
}

interface Slot {
  task: TaskNode;
  cancel: () => void;
}

export class TaskQueue {
  private readonly options: TaskQueueOptions;
  /** hosting-queued's one task (during its pause still queued). */
  private current: Slot | undefined;
  /** Tasks run by their own hosting-task process, beside the daemon's. */
  private readonly express = new Set<Slot>();
  private waiters: Array<() => void> = [];
  private stopped = false;

  constructor(options: TaskQueueOptions) {
    this.options = options;
  }

  /** hosting_add_task(): a queued task node for node rid. */
  add(rid: number, type: string, args: Record<string, string | number> = {}): TaskNode {
    const { hostmaster, clock } = this.options;
    const task: TaskNode = { nid: hostmaster.allocate(), type, rid, status: TASK_QUEUED, executed: 0, delta: 0, args, created: unixTime(clock), log: [] };
    hostmaster.tasks.set(task.nid, task);
    this.pump();
    return task;
  }

  /**
   * `drush @hostmaster hosting-task <nid>` from another process: the queued task is Processing at
   * once (no hosting-queued pause: that process is not the daemon) and finishes after its type's
   * duration, beside whatever the daemon runs; the daemon, taking only queued tasks, never runs it
   * again. It runs on the clock whatever `autoRun` says (that is the daemon's switch); drain()
   * finishes it at once.
   */
  runNow(task: TaskNode): void {
    if (task.status !== TASK_QUEUED) throw new Error(`task ${task.nid} is not queued`);
    this.start(task);
    if (this.stopped) return;
    const slot: Slot = { task, cancel: () => {} };
    this.express.add(slot);
    slot.cancel = this.options.clock.schedule(() => {
      this.express.delete(slot);
      this.finish(task);
      this.settle();
    }, this.duration(task));
  }

  /** Run everything queued now, in order, without waiting for durations; express tasks first. */
  drain(): void {
    for (const slot of this.express) {
      slot.cancel();
      this.finish(slot.task);
    }
    this.express.clear();
    for (;;) {
      const current = this.current;
      if (current) {
        current.cancel();
        this.current = undefined;
        if (current.task.status === TASK_QUEUED) this.start(current.task);
        // A task an express process took during the daemon's pause has finished above.
        if (current.task.status === TASK_PROCESSING) this.finish(current.task);
        continue;
      }
      const next = this.next();
      if (!next) break;
      this.start(next);
      this.finish(next);
    }
    this.settle();
  }

  /** Resolves when nothing is queued or processing (advance fake timers meanwhile). */
  idle(): Promise<void> {
    if (!this.busy()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.current?.cancel();
    this.current = undefined;
    for (const slot of this.express) slot.cancel();
    this.express.clear();
  }

  /** Something is queued or processing: the daemon's task, a queued one, an express one. */
  busy(): boolean {
    return this.current !== undefined || this.express.size > 0 || this.next() !== undefined;
  }

  private next(): TaskNode | undefined {
    let oldest: TaskNode | undefined;
    for (const task of this.options.hostmaster.tasks.values()) {
      if (task.status === TASK_QUEUED && (oldest === undefined || task.nid < oldest.nid)) oldest = task;
    }
    return oldest;
  }

  private pump(): void {
    if (this.stopped || !this.options.autoRun || this.current) return;
    const task = this.next();
    if (!task) return this.settle();
    const { clock, latency } = this.options;
    const slot = { task, cancel: () => {} };
    this.current = slot;
    slot.cancel = clock.schedule(() => {
      if (task.status !== TASK_QUEUED) {
        // Another process started it during the pause: the daemon's hosting-task fails with
        // HOSTING_TASK_RUNNING and changes nothing; the daemon goes on with the next one.
        this.current = undefined;
        this.pump();
        return;
      }
      this.start(task);
      slot.cancel = clock.schedule(() => {
        this.current = undefined;
        this.finish(task);
        this.pump();
      }, this.duration(task));
    }, latency.taskStartDelay());
  }

  private duration(task: TaskNode): number {
    return this.options.latency.task(task.type, isFreshSite(this.options.hostmaster.sites.get(task.rid)));
  }

  private start(task: TaskNode): void {
    task.status = TASK_PROCESSING;
    task.executed = unixTime(this.options.clock);
  }

  private finish(task: TaskNode): void {
    const { hostmaster, clock } = this.options;
    const now = unixTime(clock);
    const log = (message: string, level = "notice") => task.log.push({ message, level, at: now });
    try {
      const injected = this.options.fault?.(task);
      if (injected !== undefined) {
        if (task.type === "install") rollBackInstall(hostmaster, task);
        throw new TaskFailure(injected);
      }
      const effect = TASK_EFFECTS[task.type] ?? DAY2_TASK_EFFECTS[task.type];
      if (!effect) throw new TaskFailure(`No provision command for task type ${task.type}.`);
      effect({ hostmaster, now, log }, task);
      task.status = TASK_SUCCESS;
    } catch (error) {
      if (!(error instanceof TaskFailure)) throw error;
      log(error.message, "error");
      task.status = TASK_FAILED;
    }
    task.delta = Math.max(0, now - task.executed);
  }

  private settle(): void {
    if (this.busy()) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** provision deletes the half-built site and its alias; the front end marks the site disabled. */
function rollBackInstall(hostmaster: Hostmaster, task: TaskNode): void {
  const site = hostmaster.sites.get(task.rid);
  if (!site) return;
  site.aliasSaved = false;
  site.drupal = undefined;
  site.status = SITE_DISABLED;
}
