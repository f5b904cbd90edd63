// In-memory HostedSite and AegirServer stores for reconciler tests without a Kubernetes API:
// they keep the latest object, bump resourceVersion on every write and count writes by kind.
import type { AegirServerStatus } from "../../crds/aegirserver.ts";
import type { HostedSiteStatus } from "../../crds/hostedsite.ts";
import type { AegirServer, HostedSite } from "../../crds/kinds.ts";
import type { HostedSiteStore } from "../../reconcilers/hostedsite/reconciler.ts";
import type { AegirServerStore } from "../../reconcilers/aegirserver/reconciler.ts";

export class MemoryHostedSiteStore implements HostedSiteStore {
  private current: HostedSite;
  private version = 1;
  readonly writes = { finalizer: 0, annotations: 0, status: 0 };
  /** The finalizer was removed while deleting: the API server would delete the object now. */
  gone = false;
  /** Called before each write; throw from it to simulate a crash at that point. */
  beforeWrite: (kind: "finalizer" | "annotations" | "status") => void = () => {};

  constructor(site: HostedSite) {
    this.current = structuredClone({ ...site, metadata: { ...site.metadata, resourceVersion: "1", generation: site.metadata.generation ?? 1 } });
  }

  get site(): HostedSite {
    return structuredClone(this.current);
  }

  /** Change the spec as `kubectl apply` would: generation moves. */
  editSpec(edit: (spec: HostedSite["spec"]) => void): void {
    edit(this.current.spec);
    this.current.metadata.generation = (this.current.metadata.generation ?? 1) + 1;
    this.bump();
  }

  /** `kubectl delete`: deletionTimestamp set, the object stays while finalizers remain. */
  markDeleted(at: Date): void {
    this.current.metadata.deletionTimestamp = at.toISOString();
    this.bump();
  }

  addFinalizer(_site: HostedSite, finalizer: string): Promise<HostedSite> {
    this.beforeWrite("finalizer");
    const list = this.current.metadata.finalizers ?? [];
    if (!list.includes(finalizer)) this.current.metadata.finalizers = [...list, finalizer];
    this.writes.finalizer++;
    return Promise.resolve(this.bump());
  }

  removeFinalizer(_site: HostedSite, finalizer: string): Promise<void> {
    this.beforeWrite("finalizer");
    this.current.metadata.finalizers = (this.current.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    this.writes.finalizer++;
    if (this.current.metadata.deletionTimestamp && this.current.metadata.finalizers.length === 0) this.gone = true;
    this.bump();
    return Promise.resolve();
  }

  annotate(_site: HostedSite, annotations: Record<string, string | null>): Promise<HostedSite> {
    this.beforeWrite("annotations");
    const next = { ...this.current.metadata.annotations };
    for (const [k, v] of Object.entries(annotations)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    this.current.metadata.annotations = next;
    this.writes.annotations++;
    return Promise.resolve(this.bump());
  }

  updateStatus(_site: HostedSite, status: HostedSiteStatus): Promise<HostedSite> {
    this.beforeWrite("status");
    this.current.status = structuredClone(status);
    this.writes.status++;
    return Promise.resolve(this.bump());
  }

  private bump(): HostedSite {
    this.current.metadata.resourceVersion = String(++this.version);
    return this.site;
  }
}

export class MemoryAegirServerStore implements AegirServerStore {
  readonly statuses = new Map<string, AegirServerStatus>();

  updateStatus(server: AegirServer, status: AegirServerStatus): Promise<AegirServer> {
    this.statuses.set(server.metadata.name, structuredClone(status));
    return Promise.resolve({ ...server, status });
  }
}
