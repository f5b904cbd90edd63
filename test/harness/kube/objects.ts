// The test-facing object API: read and write objects in-process, with the same semantics (and
// watch events) as requests over HTTP, and wait for the system under test to change them.
import { APPLY_PATCH } from "./patch.ts";
import { parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import type { ObjectRegistry, WriteOptions } from "./registry.ts";
import type { KubeObject, ResourceType } from "./resources.ts";
import type { EventType } from "./store.ts";

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WriteAs {
  /** Field manager recorded in managedFields; "harness" unless given. */
  manager?: string;
}

export interface ApplyAs {
  /** Field manager; required, like for server-side apply over HTTP. */
  manager: string;
  /** Take over fields other managers own instead of failing with 409. */
  force?: boolean;
  /** "status" to apply to the status subresource. */
  subresource?: "status";
}

export type ChangeListener = (type: EventType, object: KubeObject) => void;

export class ObjectApi {
  private readonly registry: ObjectRegistry;

  constructor(registry: ObjectRegistry) {
    this.registry = registry;
  }

  private typeOf(apiVersion: string | undefined, kind: string | undefined): ResourceType {
    const type = apiVersion && kind ? this.registry.resources.findKind(apiVersion, kind) : undefined;
    if (!type) throw new Error(`the server does not serve ${String(kind)} in ${String(apiVersion)}`);
    return type;
  }

  private options(as: WriteAs, subresource = ""): WriteOptions {
    return { manager: as.manager ?? "harness", fieldValidation: "Strict", dryRun: false, subresource };
  }

  get(ref: ObjectRef): KubeObject | undefined {
    return this.registry.find(this.typeOf(ref.apiVersion, ref.kind), ref.namespace, ref.name);
  }

  list(apiVersion: string, kind: string, options: ListOptions = {}): KubeObject[] {
    const type = this.typeOf(apiVersion, kind);
    const fields = parseFieldSelector(options.fieldSelector);
    this.registry.checkFieldSelector(type, fields);
    return this.registry.list(type, options.namespace, parseLabelSelector(options.labelSelector), fields);
  }

  /**
   * Creates the object like a POST (validation, defaults, 409 if it exists). If it carries a
   * status and the kind has a status subresource, the status is written next, as a client would.
   */
  create(object: KubeObject, as: WriteAs = {}): KubeObject {
    const type = this.typeOf(object.apiVersion, object.kind);
    const created = this.registry.create(type, object.metadata.namespace, object, this.options(as)).object;
    if (object.status === undefined || !type.statusSubresource) return created;
    return this.registry.update(type, created.metadata.namespace, created.metadata.name!, { ...created, status: object.status }, this.options(as, "status")).object;
  }

  /**
   * Creates or replaces the object, status included (main resource, then status subresource).
   * Without metadata.resourceVersion it overwrites whatever is stored; with one, a stale
   * version is a 409 Conflict.
   */
  put(object: KubeObject, as: WriteAs = {}): KubeObject {
    const type = this.typeOf(object.apiVersion, object.kind);
    const namespace = type.namespaced ? object.metadata.namespace : undefined;
    const current = this.registry.find(type, namespace, object.metadata.name ?? "");
    if (!current) return this.create(object, as);
    const desired = { ...object, metadata: { ...object.metadata, resourceVersion: object.metadata.resourceVersion ?? current.metadata.resourceVersion } };
    const main = this.registry.update(type, namespace, current.metadata.name!, desired, this.options(as)).object;
    if (!type.statusSubresource || object.status === undefined) return main;
    // Gone when the write removed the last finalizer of an object being deleted.
    const fresh = this.registry.find(type, namespace, main.metadata.name!);
    if (!fresh) return main;
    return this.registry.update(type, namespace, fresh.metadata.name!, { ...fresh, status: object.status }, this.options(as, "status")).object;
  }

  /** Server-side apply of a (partial) object, as a field manager: creates it when missing. */
  apply(object: KubeObject, as: ApplyAs): KubeObject {
    const type = this.typeOf(object.apiVersion, object.kind);
    const namespace = type.namespaced ? object.metadata.namespace : undefined;
    return this.registry.patch(type, namespace, object.metadata.name ?? "", APPLY_PATCH, JSON.stringify(object), {
      ...this.options({ manager: as.manager }, as.subresource ?? ""),
      force: as.force ?? false,
      managerGiven: true,
    }).object;
  }

  /** Deletes like a DELETE: returns the object while finalizers hold it, undefined once it is gone. */
  delete(ref: ObjectRef): KubeObject | undefined {
    const type = this.typeOf(ref.apiVersion, ref.kind);
    const result = this.registry.delete(type, ref.namespace, ref.name, { dryRun: false });
    return result.deleted ? undefined : (result.body as KubeObject);
  }

  /** Calls the listener with every change from now on; returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    return this.registry.store.subscribe((event) => {
      const type = this.registry.resources.sharingStorage(event.storage)[0];
      if (type) listener(event.type, this.registry.external(type, structuredClone(event.object)));
    });
  }

  /**
   * Resolves with the object once `predicate` holds for it (checked now and after every change);
   * with `predicate` omitted, once the object exists. Rejects after `timeoutMs` (default 5 s).
   */
  waitFor(ref: ObjectRef, predicate: (object: KubeObject) => boolean = () => true, timeoutMs = 5000): Promise<KubeObject> {
    return this.waitUntil(() => {
      const object = this.get(ref);
      return object && predicate(object) ? object : undefined;
    }, `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name} to match`, timeoutMs);
  }

  /** Resolves once the object does not exist (any more). */
  async waitForDeletion(ref: ObjectRef, timeoutMs = 5000): Promise<void> {
    await this.waitUntil(() => (this.get(ref) === undefined ? true : undefined), `${ref.kind} ${ref.name} to be deleted`, timeoutMs);
  }

  private waitUntil<T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = check();
      if (done !== undefined) return resolve(done);
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const unsubscribe = this.registry.store.subscribe(() => {
        const value = check();
        if (value === undefined) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(value);
      });
    });
  }
}
