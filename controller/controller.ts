// A controller: a workqueue and N workers calling a reconcile function per key, with
// controller-runtime's result handling and metrics.
import { randomUUID } from "node:crypto";
import type { Logger } from "../common/logger.ts";
import type { Result } from "../common/reconcile.ts";
import type { ControllerMetrics } from "./metrics.ts";
import { isConflict } from "../common/kube/rest.ts";
import { defaultControllerRateLimiter, type RateLimiter } from "./rate-limiter.ts";
import { WorkQueue } from "./workqueue.ts";

export type ReconcileFn = (key: string, ctx: { reconcileID: string; log: Logger }) => Promise<Result>;

export interface ControllerOptions {
  name: string;
  reconcile: ReconcileFn;
  maxConcurrentReconciles?: number;
  metrics: ControllerMetrics;
  log: Logger;
  rateLimiter?: RateLimiter;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly o: ControllerOptions;
  private readonly workers: Promise<void>[] = [];
  private gauges: ReturnType<typeof setInterval> | undefined;

  constructor(options: ControllerOptions) {
    this.o = options;
    this.name = options.name;
    this.queue = new WorkQueue({ rateLimiter: options.rateLimiter ?? defaultControllerRateLimiter(), observer: options.metrics.queueObserver(options.name) });
    options.metrics.registerController(options.name, options.maxConcurrentReconciles ?? 1);
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  start(): void {
    for (let i = 0; i < (this.o.maxConcurrentReconciles ?? 1); i++) this.workers.push(this.work());
    this.gauges = setInterval(() => this.o.metrics.updateUnfinished(this.name, this.queue.inFlight(), Date.now()), 500);
    this.gauges.unref();
  }

  /** Stop taking keys; wait for reconciles in flight up to the grace period. */
  async stop(graceMs: number): Promise<boolean> {
    clearInterval(this.gauges);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
    const drained = this.queue.shutDownWithDrain().then(() => true);
    const clean = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    return clean;
  }

  private async work(): Promise<void> {
    const { metrics, name } = this.o;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const reconcileID = randomUUID();
      // The child logger is made only when something logs: building one per reconcile (pino
      // compiles the bindings through its redaction) was a large share of a busy queue's CPU.
      let child: Logger | undefined;
      const log = () => (child ??= this.o.log.child({ controller: name, key, reconcileID }));
      metrics.activeWorkers.inc({ controller: name });
      const end = metrics.reconcileTime.startTimer({ controller: name });
      try {
        const result = await this.o.reconcile(key, {
          reconcileID,
          get log() {
            return log();
          },
        });
        this.handle(key, result, log);
      } catch (error) {
        // A conflict is routine (the object changed since the cache saw it, or the cache lags):
        // back off and look again once the cache has caught up, as controller-runtime does. Any
        // other exception is a bug in a reconciler: count it like a panic, back off, keep running.
        if (!isConflict(error)) {
          metrics.reconcilePanics.inc({ controller: name });
          log().error({ err: error instanceof Error ? error.stack : String(error) }, "reconcile threw");
        }
        this.handle(key, { error: error instanceof Error ? error : new Error(String(error)) }, log);
      } finally {
        end();
        metrics.activeWorkers.dec({ controller: name });
        this.queue.done(key);
      }
    }
  }

  private handle(key: string, result: Result, log: () => Logger): void {
    const { metrics, name } = this.o;
    if (result.error !== undefined && result.terminal === true) {
      // controller-runtime's TerminalError: counted, not retried; a watch event brings the key back.
      metrics.reconcileTotal.inc({ controller: name, result: "error" });
      metrics.reconcileErrors.inc({ controller: name });
      metrics.terminalErrors.inc({ controller: name });
      log().warn({ err: result.error.message }, "reconcile failed terminally; not retrying until the object changes");
      this.queue.forget(key);
    } else if (result.error !== undefined) {
      metrics.reconcileTotal.inc({ controller: name, result: "error" });
      metrics.reconcileErrors.inc({ controller: name });
      log().warn({ err: result.error.message, requeues: this.queue.numRequeues(key) }, "reconcile failed; backing off");
      this.queue.addRateLimited(key);
    } else if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
      metrics.reconcileTotal.inc({ controller: name, result: "requeue_after" });
      this.queue.forget(key);
      this.queue.addAfter(key, result.requeueAfterMs);
    } else {
      metrics.reconcileTotal.inc({ controller: name, result: "success" });
      this.queue.forget(key);
    }
  }
}
