// In-memory stores for reconciler tests without a Kubernetes API: they keep the latest object,
// bump resourceVersion on every write and count writes by kind.
import type { AegirServerStatus } from "../../crds/aegirserver.ts";
import type { AegirServer, HostedSite } from "../../crds/kinds.ts";
import type { ObjectMeta } from "../../crds/metadata.ts";
import type { HostedSiteStore } from "../../reconcilers/hostedsite/reconciler.ts";
import type { AegirServerStore } from "../../reconcilers/aegirserver/reconciler.ts";

type WriteKind = "finalizer" | "status";

/** One custom resource with a spec, a status and finalizers, written as the API server would. */
export class MemoryObjectStore<T extends { metadata: ObjectMeta; spec: object; status?: object }, K extends string = WriteKind> {
  protected current: T;
  private version = 1;
  readonly writes: Record<K | WriteKind, number>;
  /** The finalizer was removed while deleting: the API server would delete the object now. */
  gone = false;
  /** Called before each write; throw from it to simulate a crash at that point. */
  beforeWrite: (kind: K | WriteKind) => void = () => {};

  constructor(object: T, extraKinds: readonly K[] = []) {
    this.current = structuredClone({ ...object, metadata: { ...object.metadata, resourceVersion: "1", generation: object.metadata.generation ?? 1 } });
    this.writes = Object.fromEntries(["finalizer", "status", ...extraKinds].map((k) => [k, 0])) as Record<K | WriteKind, number>;
  }

  get object(): T {
    return structuredClone(this.current);
  }

  /** Change the spec as `kubectl apply` would: generation moves. */
  editSpec(edit: (spec: T["spec"]) => void): void {
    edit(this.current.spec);
    this.current.metadata.generation = (this.current.metadata.generation ?? 1) + 1;
    this.bump();
  }

  /** `kubectl delete`: deletionTimestamp set, the object stays while finalizers remain. */
  markDeleted(at: Date): void {
    this.current.metadata.deletionTimestamp = at.toISOString();
    this.bump();
  }

  addFinalizer(_object: T, finalizer: string): Promise<T> {
    this.write("finalizer");
    const list = this.current.metadata.finalizers ?? [];
    if (!list.includes(finalizer)) this.current.metadata.finalizers = [...list, finalizer];
    return Promise.resolve(this.bump());
  }

  removeFinalizer(_object: T, finalizer: string): Promise<void> {
    this.write("finalizer");
    this.current.metadata.finalizers = (this.current.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    if (this.current.metadata.deletionTimestamp && this.current.metadata.finalizers.length === 0) this.gone = true;
    this.bump();
    return Promise.resolve();
  }

  updateStatus(_object: T, status: NonNullable<T["status"]>): Promise<T> {
    this.write("status");
    this.current.status = structuredClone(status);
    return Promise.resolve(this.bump());
  }

  protected write(kind: K | WriteKind): void {
    this.beforeWrite(kind);
    this.writes[kind]++;
  }

  protected bump(): T {
    this.current.metadata.resourceVersion = String(++this.version);
    return this.object;
  }
}

export class MemoryHostedSiteStore extends MemoryObjectStore<HostedSite, "annotations"> implements HostedSiteStore {
  constructor(site: HostedSite) {
    super(site, ["annotations"]);
  }

  get site(): HostedSite {
    return this.object;
  }

  annotate(_site: HostedSite, annotations: Record<string, string | null>): Promise<HostedSite> {
    this.write("annotations");
    const next = { ...this.current.metadata.annotations };
    for (const [k, v] of Object.entries(annotations)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    this.current.metadata.annotations = next;
    return Promise.resolve(this.bump());
  }
}

export class MemoryAegirServerStore implements AegirServerStore {
  readonly statuses = new Map<string, AegirServerStatus>();

  updateStatus(server: AegirServer, status: AegirServerStatus): Promise<AegirServer> {
    this.statuses.set(server.metadata.name, structuredClone(status));
    return Promise.resolve({ ...server, status });
  }
}
