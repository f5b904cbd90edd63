// A work queue with client-go's promises: fair (FIFO), stingy (a key is never handed to two
// workers, and adds before processing collapse into one), re-entrant (a key added while it is
// processed runs again afterwards). Delayed adds keep the earliest time.
import type { RateLimiter } from "./rate-limiter.ts";

/** Observations the queue reports; the metrics module turns them into workqueue_* metrics. */
export interface QueueObserver {
  add(): void;
  get(queuedSeconds: number): void;
  done(workSeconds: number): void;
  retry(): void;
  depth(n: number): void;
}

export interface WorkQueueOptions {
  rateLimiter: RateLimiter;
  observer?: QueueObserver;
  now?: () => number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Map<string, number>();
  private readonly addedAt = new Map<string, number>();
  private readonly waiting = new Map<string, { at: number; timer: ReturnType<typeof setTimeout> }>();
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private readonly drained: Array<() => void> = [];
  private shuttingDown = false;
  private readonly rateLimiter: RateLimiter;
  private readonly observer: QueueObserver | undefined;
  private readonly now: () => number;

  constructor(options: WorkQueueOptions) {
    this.rateLimiter = options.rateLimiter;
    this.observer = options.observer;
    this.now = options.now ?? Date.now;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.observer?.add();
    if (!this.addedAt.has(key)) this.addedAt.set(key, this.now());
    if (this.processing.has(key)) return;
    const getter = this.getters.shift();
    if (getter) this.hand(key, getter);
    else {
      this.queue.push(key);
      this.observer?.depth(this.queue.length);
    }
  }

  /** Add once `delayMs` has passed; a key already waiting keeps the earlier of the two times. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    this.observer?.retry();
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.now() + delayMs;
    const existing = this.waiting.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref?.();
    this.waiting.set(key, { at, timer });
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.rateLimiter.when(key));
  }

  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /** The next key to work on; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.observer?.depth(this.queue.length);
      return Promise.resolve(this.take(key));
    }
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** The worker finished the key; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    const started = this.processing.get(key);
    if (started === undefined) return;
    this.processing.delete(key);
    this.observer?.done((this.now() - started) / 1000);
    if (this.dirty.has(key) && !this.shuttingDown) {
      const getter = this.getters.shift();
      if (getter) this.hand(key, getter);
      else {
        this.queue.push(key);
        this.observer?.depth(this.queue.length);
      }
    }
    if (this.processing.size === 0) this.drained.splice(0).forEach((resolve) => resolve());
  }

  len(): number {
    return this.queue.length;
  }

  /** Keys being worked on and when each started (ms), for the unfinished-work gauges. */
  inFlight(): ReadonlyMap<string, number> {
    return this.processing;
  }

  /** Stop handing out work; pending keys are dropped (the next leader relists everything). */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    this.queue.length = 0;
    this.getters.splice(0).forEach((resolve) => resolve(undefined));
  }

  /** Shut down, then wait until every key handed out is done. */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  private take(key: string): string {
    this.dirty.delete(key);
    this.processing.set(key, this.now());
    const added = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (added !== undefined) this.observer?.get((this.now() - added) / 1000);
    return key;
  }

  private hand(key: string, getter: (key: string) => void): void {
    getter(this.take(key));
  }
}
