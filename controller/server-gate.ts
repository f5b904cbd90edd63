// Per-Aegir-server concurrency cap: at most N reconciles of one server's sites at a time. A key
// that finds its server busy is parked, not held by a worker, and queued again when a slot frees.
export class ServerGate {
  private readonly active = new Map<string, number>();
  private readonly parked = new Map<string, Set<string>>();

  /** Enter if the server has a free slot; otherwise remember the key and return false. */
  tryEnter(server: string, limit: number, key: string): boolean {
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

  /** Leave the server; returns the keys parked on it, to queue again. */
  leave(server: string): string[] {
    this.active.set(server, Math.max(0, (this.active.get(server) ?? 1) - 1));
    const keys = this.parked.get(server);
    if (keys === undefined) return [];
    this.parked.delete(server);
    return [...keys];
  }
}
