// Per-Aegir-server concurrency cap: at most N reconciles of one server's sites at a time. A key
// that finds its server busy is parked, not held by a worker, and queued again when a slot frees.
// Each freed slot wakes one parked key (oldest first), not all of them: waking every parked key
// on every leave made a cold start over thousands of sites quadratic (each woken key found the
// server busy again and was parked again). A woken key that does not come back to the gate (its
// site is gone) hands its turn to the next parked key through skip().
export class ServerGate {
  private readonly active = new Map<string, number>();
  private readonly parked = new Map<string, Set<string>>();
  /** Keys woken for a server that have not come back through tryEnter yet. */
  private readonly woken = new Map<string, string>();

  /** Enter if the server has a free slot; otherwise remember the key and return false. */
  tryEnter(server: string, limit: number, key: string): boolean {
    this.woken.delete(key);
    const n = this.active.get(server) ?? 0;
    if (n >= limit) {
      let keys = this.parked.get(server);
      if (keys === undefined) this.parked.set(server, (keys = new Set()));
      keys.add(key);
      return false;
    }
    this.active.set(server, n + 1);
    return true;
  }

  /** Leave the server; returns the parked key to queue again for the freed slot, if any. */
  leave(server: string): string[] {
    this.active.set(server, Math.max(0, (this.active.get(server) ?? 1) - 1));
    return this.wake(server);
  }

  /** The key was woken but will not enter (its site is gone): the next parked key gets its turn. */
  skip(key: string): string[] {
    const server = this.woken.get(key);
    if (server === undefined) return [];
    this.woken.delete(key);
    return this.wake(server);
  }

  private wake(server: string): string[] {
    const keys = this.parked.get(server);
    if (keys === undefined) return [];
    const next = keys.values().next();
    if (next.done) {
      this.parked.delete(server);
      return [];
    }
    keys.delete(next.value);
    if (keys.size === 0) this.parked.delete(server);
    this.woken.set(next.value, server);
    return [next.value];
  }
}
