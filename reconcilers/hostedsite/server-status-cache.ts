// The cheap batched read, shared: every reconcile of every site on a server within one poll
// interval uses one `server-status` command. Concurrent callers share the in-flight read.
import type { ServerStatus } from "../aegir/state.ts";

interface Entry<T> {
  at: number;
  value: Promise<T>;
}

/** Keyed by server name; also used for other batched reads (a shared site's space list). */
export class ServerStatusCache<T = ServerStatus> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly fetch: (server: string) => Promise<T>;
  private readonly now: () => number;
  private readonly maxAgeMs: number;

  constructor(options: { fetch: (server: string) => Promise<T>; now: () => number; maxAgeMs: number }) {
    this.fetch = options.fetch;
    this.now = options.now;
    this.maxAgeMs = options.maxAgeMs;
  }

  get(server: string): Promise<T> {
    const entry = this.entries.get(server);
    if (entry !== undefined && this.now() - entry.at < this.maxAgeMs) return entry.value;
    const value = this.fetch(server);
    const fresh = { at: this.now(), value };
    this.entries.set(server, fresh);
    // A failed read is not cached: the next caller tries again.
    value.catch(() => {
      if (this.entries.get(server) === fresh) this.entries.delete(server);
    });
    return value;
  }

  /** A write whose effect is known: the cached value (if any) is changed in place instead of read again. */
  update(key: string, change: (value: T) => T): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    entry.value = entry.value.then(change);
    entry.value.catch(() => {}); // a failed read is dropped by get()'s own handler
  }

  /** After a write: the next reader sees the change. */
  invalidate(server: string): void {
    this.entries.delete(server);
  }
}
