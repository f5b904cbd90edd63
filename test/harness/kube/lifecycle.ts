// Deletion and what follows it: deletionTimestamp while finalizers hold an object, removal once
// none do, and the cascades the control plane runs: a namespace's contents, a CRD's custom
// resources, and garbage collection of objects whose owners are gone.
import { NAMESPACES } from "./builtins.ts";
import { CRD_CLEANUP_FINALIZER, CRDS, crdStorageOf, markCrdTerminating } from "./crd.ts";
import { isPlainObject } from "./fieldsets.ts";
import type { KubeObject } from "./resources.ts";
import type { Store } from "./store.ts";

export class Lifecycle {
  private readonly store: Store;
  private readonly now: () => string;

  constructor(store: Store, now: () => string) {
    this.store = store;
    this.now = now;
  }

  /**
   * Deletes a stored object: marks it with deletionTimestamp while finalizers hold it (namespaces
   * and CRDs always go through that, for their contents), removes it otherwise. Returns the
   * object when it is still there.
   */
  delete(storage: string, stored: KubeObject): KubeObject | undefined {
    const meta = stored.metadata;
    const holds = (meta.finalizers ?? []).length > 0 || storage === NAMESPACES || storage === CRDS;
    if (!holds) {
      this.remove(storage, stored);
      return undefined;
    }
    if (meta.deletionTimestamp) return stored;
    const marked = structuredClone(stored);
    marked.metadata.deletionTimestamp = this.now();
    marked.metadata.deletionGracePeriodSeconds = 0;
    if (storage === NAMESPACES) marked.status = { ...(isPlainObject(marked.status) ? marked.status : {}), phase: "Terminating" };
    if (storage === CRDS) markCrdTerminating(marked, this.now());
    const updated = this.store.update(storage, marked);
    if (storage === NAMESPACES) {
      for (const s of this.store.storages()) for (const o of this.store.list(s, meta.name)) this.delete(s, o);
      return this.finishNamespace(meta.name!) ? undefined : this.store.get(NAMESPACES, undefined, meta.name!);
    }
    if (storage === CRDS) {
      const crStorage = crdStorageOf(updated);
      for (const o of this.store.list(crStorage)) this.delete(crStorage, o);
      return this.finishCrd(meta.name!) ? undefined : this.store.get(CRDS, undefined, meta.name!);
    }
    return updated;
  }

  /** Removes the object for good, then runs what its removal unblocks. */
  remove(storage: string, object: KubeObject): KubeObject {
    const removed = this.store.remove(storage, object.metadata.namespace, object.metadata.name!)!;
    this.collectGarbage(removed.metadata.uid!);
    if (removed.metadata.namespace) this.finishNamespace(removed.metadata.namespace);
    const crd = this.store.list(CRDS).find((c) => crdStorageOf(c) === storage);
    if (crd) this.finishCrd(crd.metadata.name!);
    return removed;
  }

  /** A terminating namespace goes once it is empty and nothing else holds it. */
  private finishNamespace(name: string): boolean {
    const ns = this.store.get(NAMESPACES, undefined, name);
    if (!ns?.metadata.deletionTimestamp || (ns.metadata.finalizers ?? []).length > 0) return false;
    if (this.store.some((_storage, o) => o.metadata.namespace === name)) return false;
    this.store.remove(NAMESPACES, undefined, name);
    return true;
  }

  /** A terminating CRD goes once its custom resources are gone. */
  private finishCrd(name: string): boolean {
    const crd = this.store.get(CRDS, undefined, name);
    if (!crd?.metadata.deletionTimestamp) return false;
    if (this.store.list(crdStorageOf(crd)).length > 0) return false;
    const finalizers = (crd.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    if (finalizers.length !== (crd.metadata.finalizers ?? []).length) {
      crd.metadata.finalizers = finalizers;
      if (finalizers.length === 0) delete crd.metadata.finalizers;
      this.store.update(CRDS, crd);
    }
    if (finalizers.length > 0) return false;
    this.remove(CRDS, crd);
    return true;
  }

  /** Background garbage collection: dependents go when none of their owners is left. */
  private collectGarbage(removedUid: string): void {
    const uids = new Set<string>();
    for (const s of this.store.storages()) for (const o of this.store.list(s)) uids.add(o.metadata.uid!);
    for (const s of this.store.storages()) {
      for (const o of this.store.list(s)) {
        const owners = o.metadata.ownerReferences ?? [];
        if (owners.some((r) => r.uid === removedUid) && owners.every((r) => !uids.has(r.uid))) this.delete(s, o);
      }
    }
  }

  /** Removes the owner from its dependents' ownerReferences (propagationPolicy Orphan). */
  orphanDependents(ownerUid: string): void {
    for (const s of this.store.storages()) {
      for (const o of this.store.list(s)) {
        const owners = o.metadata.ownerReferences ?? [];
        if (!owners.some((r) => r.uid === ownerUid)) continue;
        o.metadata.ownerReferences = owners.filter((r) => r.uid !== ownerUid);
        if (o.metadata.ownerReferences.length === 0) delete o.metadata.ownerReferences;
        this.store.update(s, o);
      }
    }
  }
}
