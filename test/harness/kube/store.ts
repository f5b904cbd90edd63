// The object store: one global, increasing resourceVersion (like an etcd revision), a bounded
// history of changes for watches that resume from a resourceVersion, and synchronous fan-out
// of every change to subscribers (open watches, CRD registration, the test API).
import type { KubeObject } from "./resources.ts";
import { expired } from "./status.ts";

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
  type: EventType;
  storage: string;
  /** The object after the change; for DELETED, its last state with the deletion's resourceVersion. */
  object: KubeObject;
  /** The object before the change (MODIFIED and DELETED). */
  previous?: KubeObject;
  resourceVersion: number;
}

export type StoreListener = (event: StoreEvent) => void;

const keyOf = (namespace: string | undefined, name: string) => `${namespace ?? ""}/${name}`;

export class Store {
  private revision = 0;
  /** Highest revision whose event was dropped from the history: watches must start at or after it. */
  private compactedRevision = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<StoreListener>();
  private readonly historySize: number;

  constructor(historySize: number) {
    this.historySize = historySize;
  }

  currentRevision(): number {
    return this.revision;
  }

  get(storage: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.objects.get(storage)?.get(keyOf(namespace, name));
    return found && structuredClone(found);
  }

  /** Objects sorted by namespace then name, as etcd returns them. */
  list(storage: string, namespace?: string): KubeObject[] {
    const all = [...(this.objects.get(storage)?.entries() ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return all.filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace).map(([, o]) => structuredClone(o));
  }

  /** Whether any object of any storage matches, without copying them. */
  some(predicate: (storage: string, object: KubeObject) => boolean): boolean {
    for (const [storage, objects] of this.objects) for (const o of objects.values()) if (predicate(storage, o)) return true;
    return false;
  }

  storages(): string[] {
    return [...this.objects.keys()];
  }

  create(storage: string, object: KubeObject): KubeObject {
    const stored = this.stamp(object);
    if (!this.objects.has(storage)) this.objects.set(storage, new Map());
    this.objects.get(storage)!.set(keyOf(stored.metadata.namespace, stored.metadata.name!), stored);
    this.emit({ type: "ADDED", storage, object: stored, resourceVersion: this.revision });
    return structuredClone(stored);
  }

  update(storage: string, object: KubeObject): KubeObject {
    const key = keyOf(object.metadata.namespace, object.metadata.name!);
    const previous = this.objects.get(storage)?.get(key);
    if (!previous) throw new Error(`update of missing object ${storage} ${key}`);
    const stored = this.stamp(object);
    this.objects.get(storage)!.set(key, stored);
    this.emit({ type: "MODIFIED", storage, object: stored, previous, resourceVersion: this.revision });
    return structuredClone(stored);
  }

  remove(storage: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = keyOf(namespace, name);
    const previous = this.objects.get(storage)?.get(key);
    if (!previous) return undefined;
    this.objects.get(storage)!.delete(key);
    const last = this.stamp(previous);
    this.emit({ type: "DELETED", storage, object: last, previous, resourceVersion: this.revision });
    return structuredClone(last);
  }

  /** Changes after `revision`, oldest first; 410 Expired when some of them were compacted away. */
  eventsSince(revision: number): StoreEvent[] {
    if (revision < this.compactedRevision) {
      throw expired(`too old resource version: ${revision} (${this.compactedRevision})`);
    }
    const first = this.history.findIndex((e) => e.resourceVersion > revision);
    return first === -1 ? [] : this.history.slice(first);
  }

  /**
   * Forgets the history, like an etcd compaction after other writes: every resourceVersion handed
   * out so far is now too old (the revision moves on, as a busy cluster's would, so that lists
   * taken afterwards can be watched from).
   */
  compact(): void {
    this.history.length = 0;
    this.compactedRevision = ++this.revision;
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private stamp(object: KubeObject): KubeObject {
    const stored = structuredClone(object);
    stored.metadata.resourceVersion = String(++this.revision);
    return stored;
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    while (this.history.length > this.historySize) this.compactedRevision = this.history.shift()!.resourceVersion;
    for (const listener of [...this.listeners]) listener(event);
  }
}
