// The resource types the fake serves (built-in ones and those defined by CRDs) and the lookups
// routing, discovery and the test API need.
import type { Schema } from "./openapi.ts";
import type { FieldCause } from "./status.ts";

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time?: string;
  fieldsType: "FieldsV1";
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface ObjectMetadata {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMetadata;
  [key: string]: unknown;
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  format?: string;
  description?: string;
  priority?: number;
}

/** What a write strategy may look at besides the objects. */
export interface StrategyContext {
  now: string;
}

export interface ResourceType {
  group: string;
  version: string;
  resource: string;
  kind: string;
  listKind: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Objects of types that are views of one another (core and events.k8s.io Events) share it. */
  storage: string;
  /** Whole-object structural schema: unknown fields, managedFields granularity, OpenAPI. */
  schema: Schema;
  /** Served from a CustomResourceDefinition: CRD rules apply (schema validation and defaults, no strategic merge patch). */
  custom: boolean;
  /** metadata.generation starts at 1 and increases with every change outside metadata (and status). */
  tracksGeneration: boolean;
  statusSubresource: boolean;
  printerColumns: PrinterColumn[];
  /** Field selector labels besides metadata.name and metadata.namespace, mapped to dotted paths into the object. */
  fieldSelectors: Record<string, string>;
  allowCreateOnUpdate: boolean;
  allowUnconditionalUpdate: boolean;
  /** Converts between this version and the stored form. */
  toStorage?(object: KubeObject): KubeObject;
  fromStorage?(object: KubeObject): KubeObject;
  prepareForCreate?(object: KubeObject, context: StrategyContext): void;
  prepareForUpdate?(object: KubeObject, old: KubeObject, context: StrategyContext): void;
  /** Kind-specific validation after defaulting, besides ObjectMeta (and the CRD schema for CRs). */
  validate?(object: KubeObject, old: KubeObject | undefined): FieldCause[];
}

export const apiVersionOf = (t: Pick<ResourceType, "group" | "version">) => (t.group === "" ? t.version : `${t.group}/${t.version}`);

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash === -1 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/**
 * Orders versions like the API server's discovery: GA before beta before alpha, higher numbers
 * first, anything not shaped like a Kubernetes version last.
 */
export function compareVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [3, 0, 0];
    const stage = m[2] === undefined ? 0 : m[2] === "beta" ? 1 : 2;
    return [stage, -Number(m[1]), -Number(m[3] ?? 0)];
  };
  const [ra, rb] = [rank(a), rank(b)];
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
  return a.localeCompare(b);
}

export class ResourceRegistry {
  /** Insertion ordered: built-in groups first, as in real discovery. */
  private readonly types: ResourceType[] = [];

  add(type: ResourceType): void {
    this.remove(type.group, type.resource, type.version);
    this.types.push(type);
  }

  /** Removes a group's resource in one version, or in every version. */
  remove(group: string, resource: string, version?: string): void {
    for (let i = this.types.length - 1; i >= 0; i--) {
      const t = this.types[i]!;
      if (t.group === group && t.resource === resource && (version === undefined || t.version === version)) this.types.splice(i, 1);
    }
  }

  all(): readonly ResourceType[] {
    return this.types;
  }

  find(group: string, version: string, resource: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.version === version && t.resource === resource);
  }

  findKind(apiVersion: string, kind: string): ResourceType | undefined {
    const { group, version } = splitApiVersion(apiVersion);
    return this.types.find((t) => t.group === group && t.version === version && t.kind === kind);
  }

  /** Groups in discovery order, each with its versions, preferred first. */
  groups(): Array<{ group: string; versions: string[] }> {
    const byGroup = new Map<string, Set<string>>();
    for (const t of this.types) {
      if (!byGroup.has(t.group)) byGroup.set(t.group, new Set());
      byGroup.get(t.group)!.add(t.version);
    }
    return [...byGroup].map(([group, versions]) => ({ group, versions: [...versions].sort(compareVersions) }));
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.types.filter((t) => t.group === group && t.version === version);
  }

  sharingStorage(storage: string): ResourceType[] {
    return this.types.filter((t) => t.storage === storage);
  }
}
