// What the informer caches keep of each object, like a controller-runtime cache transform: the
// validated spec and status, and only the metadata the reconcilers read (no managedFields, no
// kubectl last-applied annotation), with repeated strings shared. At 10,000 sites the cache is
// most of the controller's live heap, and most of its strings (condition types, reasons,
// messages, timestamps, enum values) are the same across sites.
import { AegirServerSpec, AegirServerStatus } from "../../crds/aegirserver.ts";
import { API_VERSION } from "../../crds/group.ts";
import { HostedSiteSpec, HostedSiteStatus } from "../../crds/hostedsite.ts";
import type { AegirServer, HostedSite, SitePool, StoredMeta } from "../../crds/kinds.ts";
import { SitePoolSpec, SitePoolStatus } from "../../crds/sitepool.ts";

/** Written by `kubectl apply`: a copy of the whole manifest that nothing here reads. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

/** Longer strings are rarely shared, and not worth a table slot. */
const MAX_INTERNED_LENGTH = 256;

/**
 * Shares one copy of equal strings. Bounded: two generations of `generationSize` entries; a
 * string found in the older one moves to the newer, so strings in use survive a turnover while
 * one-off strings (a site's own domain) age out.
 */
export class StringInterner {
  private current = new Map<string, string>();
  private previous = new Map<string, string>();
  private readonly generationSize: number;

  constructor(generationSize = 16_384) {
    this.generationSize = generationSize;
  }

  /** Entries held, both generations. */
  get size(): number {
    return this.current.size + this.previous.size;
  }

  intern(value: string): string {
    if (value.length > MAX_INTERNED_LENGTH) return value;
    const hit = this.current.get(value);
    if (hit !== undefined) return hit;
    const shared = this.previous.get(value) ?? value;
    if (this.current.size >= this.generationSize) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(shared, shared);
    return shared;
  }

  /** The same value with every string in it interned, in place (for freshly parsed JSON only). */
  internDeep<T>(value: T): T {
    if (Object.isFrozen(value)) return value;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.internAny(value[i]);
    } else if (value !== null && typeof value === "object") {
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) record[key] = this.internAny(record[key]);
    }
    return value;
  }

  private internAny(value: unknown): unknown {
    return typeof value === "string" ? this.intern(value) : this.internDeep(value);
  }
}

interface RawObject {
  metadata?: Record<string, unknown>;
  spec?: unknown;
  status?: unknown;
}

const str = (v: unknown): v is string => typeof v === "string";

function stringRecord(value: unknown, interner: StringInterner, skip?: string): Record<string, string> | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (k !== skip && str(v)) out[k] = interner.intern(v);
  return out;
}

/** StoredMeta's fields only: the cache has no use for managedFields, ownerReferences and the like. */
export function leanMetadata(raw: Record<string, unknown>, interner: StringInterner): StoredMeta | undefined {
  if (!str(raw.name)) return undefined;
  const meta: StoredMeta = { name: raw.name };
  if (str(raw.namespace)) meta.namespace = interner.intern(raw.namespace);
  if (str(raw.uid)) meta.uid = raw.uid;
  if (typeof raw.generation === "number") meta.generation = raw.generation;
  if (str(raw.resourceVersion)) meta.resourceVersion = raw.resourceVersion;
  if (str(raw.creationTimestamp)) meta.creationTimestamp = interner.intern(raw.creationTimestamp);
  if (str(raw.deletionTimestamp)) meta.deletionTimestamp = interner.intern(raw.deletionTimestamp);
  const labels = stringRecord(raw.labels, interner);
  if (labels !== undefined) meta.labels = labels;
  const annotations = stringRecord(raw.annotations, interner, LAST_APPLIED_ANNOTATION);
  if (annotations !== undefined && Object.keys(annotations).length > 0) meta.annotations = annotations;
  if (Array.isArray(raw.finalizers)) meta.finalizers = raw.finalizers.filter(str).map((f) => interner.intern(f));
  return meta;
}

/** Parsers for the informers; each keeps its own string table. */
export function cacheParsers(interner = new StringInterner()) {
  const parseSite = (raw: unknown): HostedSite | undefined => {
    const o = raw as RawObject | null | undefined;
    const metadata = o?.metadata === undefined ? undefined : leanMetadata(o.metadata, interner);
    if (metadata?.namespace === undefined) return undefined;
    const spec = HostedSiteSpec.safeParse(o?.spec);
    if (!spec.success) return undefined;
    const status = o?.status === undefined ? undefined : HostedSiteStatus.safeParse(o.status);
    return {
      apiVersion: API_VERSION,
      kind: "HostedSite",
      metadata: { ...metadata, namespace: metadata.namespace },
      spec: interner.internDeep(spec.data),
      ...(status?.success ? { status: interner.internDeep(status.data) } : {}),
    };
  };
  const parseServer = (raw: unknown): AegirServer | undefined => {
    const o = raw as RawObject | null | undefined;
    const metadata = o?.metadata === undefined ? undefined : leanMetadata(o.metadata, interner);
    if (metadata === undefined) return undefined;
    const spec = AegirServerSpec.safeParse(o?.spec);
    if (!spec.success) return undefined;
    const status = o?.status === undefined ? undefined : AegirServerStatus.safeParse(o.status);
    return {
      apiVersion: API_VERSION,
      kind: "AegirServer",
      metadata,
      spec: spec.data,
      ...(status?.success ? { status: status.data } : {}),
    };
  };
  const parsePool = (raw: unknown): SitePool | undefined => {
    const o = raw as RawObject | null | undefined;
    const metadata = o?.metadata === undefined ? undefined : leanMetadata(o.metadata, interner);
    if (metadata === undefined) return undefined;
    const spec = SitePoolSpec.safeParse(o?.spec);
    if (!spec.success) return undefined;
    const status = o?.status === undefined ? undefined : SitePoolStatus.safeParse(o.status);
    return { apiVersion: API_VERSION, kind: "SitePool", metadata, spec: spec.data, ...(status?.success ? { status: status.data } : {}) };
  };
  return { parseSite, parseServer, parsePool };
}
