// list+watch into a local cache that survives everything: relist on 410 Gone, restart with
// backoff on any error (client-node's own informer stops on errors), a liveness watchdog for
// silent watches, and a periodic resync that re-delivers every object.
import { Watch } from "@kubernetes/client-node";
import type { Logger } from "../../common/logger.ts";
import type { KubeRest } from "../../common/kube/rest.ts";

export interface Meta {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
}

export interface InformerOptions<T extends Meta> {
  rest: KubeRest;
  /** Collection path across namespaces, e.g. /apis/hosting.openatria.com/v1alpha1/hostedsites. */
  path: string;
  /** Validates a raw object; undefined skips it (logged), so one bad object cannot stop the loop. */
  parse: (raw: unknown) => T | undefined;
  /** Called with the key of every object that appeared, changed, went away, or is resynced. */
  onChange: (key: string, object: T | undefined) => void;
  log: Logger;
  resyncMs?: number;
  /** Restart a watch that brought nothing (not even a bookmark) for this long. */
  watchdogMs?: number;
  /** Backoff after errors: 800 ms doubling to 30 s, like client-go's reflector. */
  backoff?: { initialMs: number; maxMs: number };
  random?: () => number;
}

export const keyOf = (o: Meta) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name);

interface WatchEvent {
  type: string;
  object: unknown;
}

/**
 * What to do when a watch ends: the server closing it, or client-node's own 30 s request timeout
 * (an AbortSignal.timeout on every watch), is routine — watch again from the last version; 410
 * Gone means the version is too old — list again; anything else is a failure, retried with backoff.
 */
export function afterWatchEnd(error: unknown): "rewatch" | "relist" | "fail" {
  if (error === null || error === undefined || (error as { name?: string }).name === "TimeoutError") return "rewatch";
  if ((error as { statusCode?: number }).statusCode === 410) return "relist";
  return "fail";
}

export class Informer<T extends Meta> {
  private readonly cache = new Map<string, T>();
  private readonly options: InformerOptions<T>;
  private stopped = false;
  private synced = false;
  private resourceVersion = "";
  private failures = 0;
  private abort: AbortController | undefined;
  /** Identifies the current watch; callbacks of an abandoned one are ignored. */
  private watchId = 0;
  private watchdog: ReturnType<typeof setTimeout> | undefined;
  private resync: ReturnType<typeof setInterval> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private firstSync: { resolve: () => void; promise: Promise<void> };

  constructor(options: InformerOptions<T>) {
    this.options = options;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.firstSync = { resolve, promise };
  }

  /** Starts the loop; resolves after the first successful list. */
  start(): Promise<void> {
    void this.relist();
    const resyncMs = this.options.resyncMs ?? 10 * 60_000;
    this.resync = setInterval(() => {
      for (const [key, object] of this.cache) this.options.onChange(key, object);
    }, resyncMs);
    this.resync.unref();
    return this.firstSync.promise;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.resync);
    clearTimeout(this.retry);
    clearTimeout(this.watchdog);
    this.dropWatch();
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    try {
      const { objects, resourceVersion } = await this.listAll();
      if (this.stopped) return;
      for (const [key, object] of objects) this.store(key, object);
      for (const key of [...this.cache.keys()]) {
        if (!objects.has(key)) {
          this.cache.delete(key);
          this.options.onChange(key, undefined);
        }
      }
      this.resourceVersion = resourceVersion;
      if (!this.synced) {
        this.synced = true;
        this.firstSync.resolve();
      }
      await this.watch();
    } catch (error) {
      this.fail("list failed", error);
    }
  }

  /**
   * The whole collection, streamed: each item is parsed as it arrives and its raw form dropped
   * at once, so a large cluster's list never sits in memory twice (read whole, a 10,000-site
   * list cost hundreds of MB of transient heap). One request, not client-go's pages of 500: its
   * initial list is served unpaged from the watch cache too, and per-page costs grow with the
   * collection on servers without paged storage reads. The cache is updated only once the list
   * is complete, so reconcilers never see half a relist.
   */
  private async listAll(): Promise<{ objects: Map<string, T>; resourceVersion: string }> {
    const objects = new Map<string, T>();
    const metadata = await this.options.rest.list(this.options.path, (raw) => {
      const object = this.options.parse(raw);
      if (object !== undefined) objects.set(keyOf(object), object);
    });
    return { objects, resourceVersion: metadata.resourceVersion ?? "" };
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const timeoutSeconds = 300 + Math.floor((this.options.random ?? Math.random)() * 300);
    const id = ++this.watchId;
    // Two minutes without trouble: the next failure starts the backoff over.
    const healthyTimer = setTimeout(() => (this.failures = 0), 120_000);
    healthyTimer.unref();
    const watch = new Watch(this.options.rest.kc);
    this.armWatchdog();
    this.abort = await watch.watch(
      this.options.path,
      { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
      (type: string, object: unknown) => {
        if (id !== this.watchId) return;
        this.armWatchdog();
        this.onEvent({ type, object });
      },
      (error: unknown) => {
        clearTimeout(healthyTimer);
        if (this.stopped || id !== this.watchId) return;
        clearTimeout(this.watchdog);
        const next = afterWatchEnd(error);
        if (next === "rewatch") void this.watch();
        else if (next === "relist") void this.relist();
        else this.fail("watch failed", error);
      },
    );
  }

  /** Abandon the current watch (its late callbacks are ignored). */
  private dropWatch(): void {
    this.watchId++;
    this.abort?.abort();
  }

  private onEvent(event: WatchEvent): void {
    if (event.type === "ERROR") {
      const code = (event.object as { code?: number } | null)?.code;
      this.dropWatch();
      if (code === 410) void this.relist();
      else this.fail("watch error event", new Error(JSON.stringify(event.object)));
      return;
    }
    const rv = (event.object as Meta | null)?.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (event.type === "BOOKMARK") return;
    const object = this.options.parse(event.object);
    if (object === undefined) return;
    const key = keyOf(object);
    if (event.type === "DELETED") {
      this.cache.delete(key);
      this.options.onChange(key, undefined);
    } else {
      this.store(key, object);
    }
  }

  private store(key: string, object: T): void {
    const old = this.cache.get(key);
    this.cache.set(key, object);
    if (old?.metadata.resourceVersion !== object.metadata.resourceVersion) this.options.onChange(key, object);
  }

  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      this.options.log.warn({ path: this.options.path }, "watch silent for too long; relisting");
      this.dropWatch();
      void this.relist();
    }, this.options.watchdogMs ?? 5 * 60_000);
    this.watchdog.unref();
  }

  private fail(what: string, error: unknown): void {
    if (this.stopped) return;
    this.dropWatch();
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 800, maxMs: 30_000 };
    const delay = Math.min(maxMs, initialMs * 2 ** this.failures);
    this.failures++;
    this.options.log.warn({ path: this.options.path, err: String(error), retryInMs: delay }, what);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.relist(), delay);
    this.retry.unref();
  }
}
