// managedFields bookkeeping and server-side apply, after k8s.io/apimachinery's fieldmanager:
// every write records which manager owns which fields; an apply merges the applied
// configuration, refuses to change fields other managers own unless forced, and removes fields
// the same manager applied before but no longer sends (when nobody else owns them).
import { ApiError } from "./status.ts";
import { type FieldPath, FieldSet, collectFields, deepEqual, formatFieldPath, isPlainObject, removePath, valueAt } from "./fieldsets.ts";
import type { Schema } from "./openapi.ts";
import type { KubeObject, ManagedFieldsEntry, ResourceType } from "./resources.ts";

export interface ManagedEntry {
  manager: string;
  operation: "Apply" | "Update";
  subresource: string;
  apiVersion: string;
  time: string;
  fields: FieldSet;
}

export interface Writer {
  manager: string;
  /** "" for the main resource, "status" for the status subresource. */
  subresource: string;
  apiVersion: string;
  now: string;
}

/** Fields the server owns or that identify the object; never part of a field set. */
const IDENTITY_META = [
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
];

export function decodeManagedFields(entries: readonly ManagedFieldsEntry[] | undefined): ManagedEntry[] {
  return (entries ?? [])
    .filter((e) => typeof e === "object" && e !== null && typeof e.manager === "string")
    .map((e) => ({
      manager: e.manager,
      operation: e.operation === "Apply" ? "Apply" : "Update",
      subresource: e.subresource ?? "",
      apiVersion: e.apiVersion,
      time: e.time ?? "",
      fields: FieldSet.fromFieldsV1(e.fieldsV1),
    }));
}

export function encodeManagedFields(entries: readonly ManagedEntry[]): ManagedFieldsEntry[] | undefined {
  if (entries.length === 0) return undefined;
  return entries.map((e) => {
    const out: ManagedFieldsEntry = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion, time: e.time, fieldsType: "FieldsV1", fieldsV1: e.fields.toFieldsV1() };
    if (e.subresource !== "") out.subresource = e.subresource;
    return out;
  });
}

/** The part of an object a write through `subresource` may change, without identity fields. */
function scoped(object: KubeObject, type: ResourceType, subresource: string): Record<string, unknown> {
  if (subresource === "status") return object.status === undefined ? {} : { status: structuredClone(object.status) };
  const copy: Record<string, unknown> = structuredClone(object);
  delete copy.apiVersion;
  delete copy.kind;
  if (type.statusSubresource) delete copy.status;
  const meta = copy.metadata;
  if (isPlainObject(meta)) {
    for (const key of IDENTITY_META) delete meta[key];
    if (Object.keys(meta).length === 0) delete copy.metadata;
  }
  return copy;
}

/** Every field of the object, whichever subresource writes it. */
function allFields(object: KubeObject, type: ResourceType): FieldSet {
  const whole = scoped(object, { ...type, statusSubresource: false }, "");
  return collectFields(whole, type.schema).all;
}

const sameWriter = (e: ManagedEntry, manager: string, operation: ManagedEntry["operation"], subresource: string) =>
  e.manager === manager && e.operation === operation && e.subresource === subresource;

/** Restricts every entry to fields the object still has and drops the empty ones. */
function settle(entries: ManagedEntry[], object: KubeObject, type: ResourceType): ManagedEntry[] {
  const present = allFields(object, type);
  return entries.map((e) => ({ ...e, fields: e.fields.intersection(present) })).filter((e) => e.fields.size > 0);
}

/** Records an update (create, PUT, merge/JSON patch): the writer takes every field it added or changed. */
export function trackUpdate(entries: readonly ManagedEntry[], old: KubeObject | undefined, next: KubeObject, type: ResourceType, writer: Writer): ManagedEntry[] {
  const before = old ? collectFields(scoped(old, type, writer.subresource), type.schema) : undefined;
  const after = collectFields(scoped(next, type, writer.subresource), type.schema);
  const changed = new FieldSet();
  for (const path of after.all.paths()) {
    if (!before?.all.has(path)) changed.add(path);
    else if (after.leaves.has(path) && !deepEqual(valueAt(old, path).value, valueAt(next, path).value)) changed.add(path);
  }
  const result = entries.map((e) =>
    sameWriter(e, writer.manager, "Update", writer.subresource) ? e : { ...e, fields: e.fields.difference(changed) },
  );
  const mine = result.find((e) => sameWriter(e, writer.manager, "Update", writer.subresource));
  if (mine) {
    const fields = mine.fields.union(changed);
    if (!fields.equals(mine.fields)) Object.assign(mine, { fields, time: writer.now, apiVersion: writer.apiVersion });
  } else if (changed.size > 0) {
    result.push({ manager: writer.manager, operation: "Update", subresource: writer.subresource, apiVersion: writer.apiVersion, time: writer.now, fields: changed });
  }
  return settle(result, next, type);
}

export interface ApplyResult {
  object: KubeObject;
  entries: ManagedEntry[];
}

/**
 * Server-side apply of `config` onto `live` (absent: create). The result still goes through the
 * normal write path (defaults, validation, status/spec split); call `settleApplied` on it.
 */
export function applyConfiguration(
  live: KubeObject,
  config: KubeObject,
  type: ResourceType,
  writer: Writer,
  force: boolean,
  entries: readonly ManagedEntry[],
): ApplyResult {
  const applied = scoped(config, type, writer.subresource);
  const fields = collectFields(applied, type.schema);
  const merged = mergeApplied(live, applied, type.schema) as KubeObject;

  const others = entries.filter((e) => !sameWriter(e, writer.manager, "Apply", writer.subresource));
  const conflicts: Array<{ entry: ManagedEntry; path: FieldPath }> = [];
  for (const path of fields.leaves.paths()) {
    const current = valueAt(live, path);
    if (!current.found || deepEqual(current.value, valueAt(applied, path).value)) continue;
    for (const entry of others) if (entry.fields.has(path)) conflicts.push({ entry, path });
  }
  if (conflicts.length > 0 && !force) throw applyConflict(conflicts);
  const lost = FieldSet.of(conflicts.map((c) => c.path));
  const result = entries.map((e) => (others.includes(e) ? { ...e, fields: e.fields.difference(lost) } : e));

  const mine = result.find((e) => sameWriter(e, writer.manager, "Apply", writer.subresource));
  for (const path of (mine?.fields ?? new FieldSet()).difference(fields.all).paths()) {
    if (!result.some((e) => e !== mine && e.fields.has(path))) removePath(merged, path);
  }
  if (mine) {
    if (!mine.fields.equals(fields.all)) Object.assign(mine, { fields: fields.all, time: writer.now, apiVersion: writer.apiVersion });
  } else {
    result.push({ manager: writer.manager, operation: "Apply", subresource: writer.subresource, apiVersion: writer.apiVersion, time: writer.now, fields: fields.all });
  }
  return { object: merged, entries: result };
}

export function settleApplied(entries: ManagedEntry[], object: KubeObject, type: ResourceType): ManagedEntry[] {
  return settle(entries, object, type);
}

/** Merges an applied configuration into the live value, list by list as the schema says. */
function mergeApplied(live: unknown, applied: unknown, schema: Schema | undefined): unknown {
  if (Array.isArray(applied)) {
    const listType = schema?.["x-kubernetes-list-type"] ?? "atomic";
    if (listType === "atomic" || !Array.isArray(live)) return structuredClone(applied);
    const result = structuredClone(live);
    if (listType === "set") {
      for (const item of applied) if (!result.some((r) => deepEqual(r, item))) result.push(structuredClone(item));
      return result;
    }
    const keys = schema?.["x-kubernetes-list-map-keys"] ?? [];
    const sameKey = (a: unknown, b: unknown) => isPlainObject(a) && isPlainObject(b) && keys.every((k) => deepEqual(a[k], b[k]));
    for (const item of applied) {
      const index = result.findIndex((r) => sameKey(r, item));
      if (index === -1) result.push(structuredClone(item));
      else result[index] = mergeApplied(result[index], item, schema?.items);
    }
    return result;
  }
  if (isPlainObject(applied) && isPlainObject(live) && schema?.["x-kubernetes-map-type"] !== "atomic") {
    const result: Record<string, unknown> = structuredClone(live);
    for (const [key, value] of Object.entries(applied)) {
      const child = schema?.properties?.[key] ?? (typeof schema?.additionalProperties === "object" ? schema.additionalProperties : undefined);
      result[key] = key in live ? mergeApplied(live[key], value, child) : structuredClone(value);
    }
    return result;
  }
  return structuredClone(applied);
}

/** Describes a manager like the API server's conflict messages do. */
function describeManager(e: ManagedEntry): string {
  let text = JSON.stringify(e.manager);
  if (e.subresource !== "") text += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === "Update") text += ` using ${e.apiVersion}`;
  return text;
}

function applyConflict(conflicts: Array<{ entry: ManagedEntry; path: FieldPath }>): ApiError {
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${describeManager(conflicts[0]!.entry)}: ${formatFieldPath(conflicts[0]!.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const who = describeManager(c.entry);
      byManager.set(who, [...(byManager.get(who) ?? []), formatFieldPath(c.path)]);
    }
    const lines = [...byManager.keys()].sort().flatMap((who) => [`conflicts with ${who}:`, ...byManager.get(who)!.map((p) => `- ${p}`)]);
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
  }
  return new ApiError(409, "Conflict", message, {
    causes: conflicts.map((c) => ({ reason: "FieldManagerConflict", message: `conflict with ${describeManager(c.entry)}`, field: formatFieldPath(c.path) })),
  });
}
