// In-memory SitePools for reconciler tests: status writes guarded by resourceVersion like the API
// server's (a stale copy gets 409), so racing claimers can be tested without one.
import { KubeApiError } from "../../common/kube/rest.ts";
import type { SitePool } from "../../crds/kinds.ts";
import type { SitePoolStatus } from "../../crds/sitepool.ts";
import type { SitePoolStore } from "../../reconcilers/sitepool/reconciler.ts";

export class MemorySitePoolStore implements SitePoolStore {
  private readonly pools = new Map<string, SitePool>();
  private version = 1;
  writes = 0;
  /** Called before each status write; throw from it to simulate a crash at that point. */
  beforeWrite: (pool: SitePool, status: SitePoolStatus) => void = () => {};

  constructor(pools: readonly SitePool[]) {
    for (const pool of pools) this.pools.set(pool.metadata.name, structuredClone({ ...pool, metadata: { ...pool.metadata, resourceVersion: String(this.version++) } }));
  }

  list(): SitePool[] {
    return [...this.pools.values()].map((p) => structuredClone(p));
  }

  pool(name: string): SitePool {
    const pool = this.pools.get(name);
    if (pool === undefined) throw new KubeApiError(404, { reason: "NotFound", message: `sitepools ${name} not found` });
    return structuredClone(pool);
  }

  /** Change the spec as `kubectl apply` would: generation and resourceVersion move. */
  editSpec(name: string, edit: (spec: SitePool["spec"]) => void): void {
    const pool = this.pool(name);
    edit(pool.spec);
    this.pools.set(name, { ...pool, metadata: { ...pool.metadata, generation: (pool.metadata.generation ?? 1) + 1, resourceVersion: String(this.version++) } });
  }

  get(name: string): Promise<SitePool> {
    return Promise.resolve(this.pool(name));
  }

  updateStatus(pool: SitePool, status: SitePoolStatus): Promise<SitePool> {
    const stored = this.pools.get(pool.metadata.name);
    if (stored === undefined) return Promise.reject(new KubeApiError(404, { reason: "NotFound", message: "gone" }));
    if (stored.metadata.resourceVersion !== pool.metadata.resourceVersion) {
      return Promise.reject(new KubeApiError(409, { reason: "Conflict", message: "the object has been modified; please apply your changes to the latest version and try again" }));
    }
    this.beforeWrite(pool, status);
    this.writes++;
    const next = { ...stored, metadata: { ...stored.metadata, resourceVersion: String(this.version++) }, status: structuredClone(status) };
    this.pools.set(pool.metadata.name, next);
    return Promise.resolve(structuredClone(next));
  }
}
