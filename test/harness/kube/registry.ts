// Object semantics on top of the store, after k8s.io/apiserver's generic registry: create, update,
// patch and delete with resourceVersion preconditions, generation, the status subresource split
// and managedFields. What deletion sets off is in lifecycle.ts.
import { randomUUID } from "node:crypto";
import * as yaml from "js-yaml";
import { type FieldValidation, checkUnknownFields, decode, requireObject, validate } from "./decode.ts";
import { deepEqual, isPlainObject } from "./fieldsets.ts";
import { type ManagedEntry, type Writer, applyConfiguration, decodeManagedFields, encodeManagedFields, settleApplied, trackUpdate } from "./managed-fields.ts";
import { pruneUnknownFields } from "./openapi.ts";
import { APPLY_PATCH, JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, jsonPatch, mergePatch, strategicMergePatch } from "./patch.ts";
import { type KubeObject, type ResourceRegistry, type ResourceType, apiVersionOf } from "./resources.ts";
import { type LabelSelector, type FieldRequirement, matchesFields, matchesLabels } from "./selectors.ts";
import {
  ApiError,
  OBJECT_MODIFIED,
  alreadyExists,
  badRequest,
  conflict,
  forbidden,
  internalError,
  invalid,
  methodNotAllowed,
  notFound,
  unsupportedMediaType,
} from "./status.ts";
import type { Status } from "./status.ts";
import type { Store } from "./store.ts";
import { CRDS } from "./crd.ts";
import { NAMESPACES } from "./builtins.ts";
import { Lifecycle } from "./lifecycle.ts";

export interface WriteOptions {
  /** fieldManager, or the user agent's program name as the API server derives it. */
  manager: string;
  fieldValidation: FieldValidation;
  dryRun: boolean;
  /** "" for the main resource, "status" for the status subresource. */
  subresource: string;
}

export interface PatchOptions extends WriteOptions {
  force: boolean;
  /** Whether the request named a field manager (required for apply). */
  managerGiven: boolean;
}

export interface WriteResult {
  object: KubeObject;
  created: boolean;
  /** `unknown field "spec.x"` warnings (fieldValidation=Warn). */
  warnings: string[];
}

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
  dryRun: boolean;
}

export interface DeleteResult {
  /** The object while finalizers hold it, a `Success` Status once it is gone. */
  body: KubeObject | Status;
  deleted: boolean;
}

const PATCH_TYPES_CUSTOM = [JSON_PATCH, MERGE_PATCH, APPLY_PATCH];
const PATCH_TYPES_BUILTIN = [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH];

export const patchTypesOf = (type: ResourceType) => (type.custom ? PATCH_TYPES_CUSTOM : PATCH_TYPES_BUILTIN);

/** RFC 3339 in whole seconds, like metav1.Time. */
const rfc3339 = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, "Z");

const NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

export class ObjectRegistry {
  readonly store: Store;
  readonly resources: ResourceRegistry;
  readonly clock: () => Date;
  private readonly lifecycle: Lifecycle;

  constructor(store: Store, resources: ResourceRegistry, clock: () => Date) {
    this.store = store;
    this.resources = resources;
    this.clock = clock;
    this.lifecycle = new Lifecycle(store, () => this.now());
  }

  now(): string {
    return rfc3339(this.clock());
  }

  /** A stored object as a client of `type` sees it. */
  external(type: ResourceType, stored: KubeObject): KubeObject {
    const object = type.fromStorage ? type.fromStorage(stored) : stored;
    return { ...object, apiVersion: apiVersionOf(type), kind: type.kind };
  }

  find(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const stored = this.store.get(type.storage, type.namespaced ? namespace : undefined, name);
    return stored && this.external(type, stored);
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const found = this.find(type, namespace, name);
    if (!found) throw notFound(type.group, type.resource, name);
    return found;
  }

  list(type: ResourceType, namespace: string | undefined, labels: LabelSelector = [], fields: readonly FieldRequirement[] = []): KubeObject[] {
    return this.store
      .list(type.storage, type.namespaced ? namespace : undefined)
      .map((o) => this.external(type, o))
      .filter((o) => this.matches(type, o, labels, fields));
  }

  matches(type: ResourceType, object: KubeObject, labels: LabelSelector, fields: readonly FieldRequirement[]): boolean {
    return matchesLabels(labels, object.metadata.labels) && matchesFields(fields, this.fieldLabels(type, object));
  }

  /** Refuses field selector labels the kind does not support, like the API server (400). */
  checkFieldSelector(type: ResourceType, fields: readonly FieldRequirement[]): void {
    for (const { field } of fields) {
      if (field === "metadata.name" || field === "metadata.namespace" || field in type.fieldSelectors) continue;
      throw badRequest(
        type.custom
          ? `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"${Object.keys(type.fieldSelectors)
              .map((f) => `, "${f}"`)
              .join("")}`
          : `field label not supported: ${field}`,
      );
    }
  }

  private fieldLabels(type: ResourceType, object: KubeObject): Record<string, string> {
    const labels: Record<string, string> = { "metadata.name": object.metadata.name ?? "", "metadata.namespace": object.metadata.namespace ?? "" };
    for (const [label, path] of Object.entries(type.fieldSelectors)) {
      let node: unknown = object;
      for (const part of path.split(".")) node = isPlainObject(node) ? node[part] : undefined;
      labels[label] = typeof node === "string" ? node : typeof node === "number" || typeof node === "boolean" ? String(node) : "";
    }
    return labels;
  }

  create(type: ResourceType, namespace: string | undefined, body: Record<string, unknown>, options: WriteOptions): WriteResult {
    const decoded = decode(type, body);
    const warnings = checkUnknownFields(type, decoded, options.fieldValidation);
    const object = decoded.object;
    this.placeInNamespace(type, object, namespace);
    if (object.metadata.resourceVersion) throw internalError("resourceVersion should not be set on objects to be created");
    if (!object.metadata.name && object.metadata.generateName) {
      const suffix = Array.from({ length: 5 }, () => NAME_SUFFIX_ALPHABET[Math.floor(Math.random() * NAME_SUFFIX_ALPHABET.length)]).join("");
      object.metadata.name = object.metadata.generateName + suffix;
    }
    const writer = this.writer(type, options);
    return { ...this.commitCreate(type, object, options, (final) => trackUpdate([], undefined, final, type, writer)), warnings };
  }

  update(type: ResourceType, namespace: string | undefined, name: string, body: Record<string, unknown>, options: WriteOptions): WriteResult {
    const decoded = decode(type, body);
    const warnings = checkUnknownFields(type, decoded, options.fieldValidation);
    const object = decoded.object;
    this.placeInNamespace(type, object, namespace);
    if (object.metadata.name !== name) {
      throw badRequest(`the name of the object (${object.metadata.name ?? ""}) does not match the name on the URL (${name})`);
    }
    const old = this.find(type, namespace, name);
    if (!old) {
      if (!type.allowCreateOnUpdate || options.subresource !== "") throw notFound(type.group, type.resource, name);
      delete object.metadata.resourceVersion;
      const writer = this.writer(type, options);
      return { ...this.commitCreate(type, object, options, (final) => trackUpdate([], undefined, final, type, writer)), warnings };
    }
    if (!object.metadata.resourceVersion && !type.allowUnconditionalUpdate) {
      throw invalid(type.group, type.kind, name, [
        { field: "metadata.resourceVersion", reason: "FieldValueInvalid", body: "Invalid value: 0x0: must be specified for an update" },
      ]);
    }
    return { ...this.commitUpdate(type, old, object, options), warnings };
  }

  patch(type: ResourceType, namespace: string | undefined, name: string, contentType: string, text: string, options: PatchOptions): WriteResult {
    if (!patchTypesOf(type).includes(contentType)) throw unsupportedMediaType(patchTypesOf(type));
    if (contentType !== APPLY_PATCH && options.force) {
      throw invalid("meta.k8s.io", "PatchOptions", "", [{ field: "force", reason: "FieldValueForbidden", body: "Forbidden: may not be specified for non-apply patch" }]);
    }
    const old = this.find(type, namespace, name);
    if (contentType === APPLY_PATCH) return this.apply(type, namespace, name, old, text, options);
    if (!old) throw notFound(type.group, type.resource, name);
    let patch: unknown;
    try {
      patch = JSON.parse(text);
    } catch (error) {
      throw badRequest(`error decoding patch: ${(error as Error).message}`);
    }
    const patched =
      contentType === MERGE_PATCH ? mergePatch(old, patch) : contentType === JSON_PATCH ? jsonPatch(old, patch) : strategicMergePatch(old, patch);
    const decoded = decode(type, requireObject(patched, text));
    const warnings = checkUnknownFields(type, decoded, options.fieldValidation, { patched });
    this.placeInNamespace(type, decoded.object, namespace);
    if (decoded.object.metadata.name !== name) {
      throw badRequest(`the name of the object (${decoded.object.metadata.name ?? ""}) does not match the name on the URL (${name})`);
    }
    return { ...this.commitUpdate(type, old, decoded.object, options), warnings };
  }

  private apply(type: ResourceType, namespace: string | undefined, name: string, old: KubeObject | undefined, text: string, options: PatchOptions): WriteResult {
    if (!options.managerGiven) {
      throw invalid("meta.k8s.io", "PatchOptions", "", [{ field: "fieldManager", reason: "FieldValueRequired", body: "Required value: is required for apply patch" }]);
    }
    let parsed: unknown;
    try {
      parsed = yaml.load(text, { schema: yaml.CORE_SCHEMA });
    } catch (error) {
      throw badRequest(`error decoding patch: ${(error as Error).message.split("\n")[0]}`);
    }
    const config = requireObject(parsed, text) as KubeObject;
    if (config.apiVersion !== apiVersionOf(type)) {
      throw badRequest(`Incorrect version specified in apply patch. Specified patch version: ${String(config.apiVersion ?? "")}, expected: ${apiVersionOf(type)}`);
    }
    if (config.kind !== type.kind) throw badRequest(`Incorrect kind specified in apply patch. Specified patch kind: ${String(config.kind ?? "")}, expected: ${type.kind}`);
    if (!isPlainObject(config.metadata)) config.metadata = {};
    this.placeInNamespace(type, config, namespace);
    if (config.metadata.name !== undefined && config.metadata.name !== name) {
      throw badRequest(`the name of the object (${config.metadata.name}) does not match the name on the URL (${name})`);
    }
    const unknown = pruneUnknownFields(structuredClone(config), type.schema);
    if (unknown.length > 0) {
      const where = `${namespace ? `${namespace}/` : ""}${name}; ${apiVersionOf(type)}, Kind=${type.kind}`;
      const details = unknown.map((f) => `.${f}: field not declared in schema`);
      throw new ApiError(500, "", `failed to create typed patch object (${where}): ${details.length === 1 ? details[0] : `errors:\n  ${details.join("\n  ")}`}`);
    }
    if (!old && options.subresource !== "") throw notFound(type.group, type.resource, name);
    const live: KubeObject = old ?? { apiVersion: apiVersionOf(type), kind: type.kind, metadata: { name, ...(type.namespaced ? { namespace } : {}) } };
    const applied = applyConfiguration(live, config, type, this.writer(type, options), options.force, decodeManagedFields(old?.metadata.managedFields));
    const decoded = decode(type, applied.object);
    if (!old) return { ...this.commitCreate(type, decoded.object, options, (final) => settleApplied(applied.entries, final, type)), warnings: [] };
    return { ...this.commitUpdate(type, old, decoded.object, options, applied.entries), warnings: [] };
  }

  private writer(type: ResourceType, options: WriteOptions): Writer {
    return { manager: options.manager, subresource: options.subresource, apiVersion: apiVersionOf(type), now: this.now() };
  }

  /** Namespaced kinds take the request's namespace; a different one in the body is a 400. */
  private placeInNamespace(type: ResourceType, object: KubeObject, namespace: string | undefined): void {
    const given = object.metadata.namespace;
    if (type.namespaced) {
      if (given && given !== namespace) throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      object.metadata.namespace = namespace;
    } else {
      if (given) throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      delete object.metadata.namespace;
    }
  }

  private checkCanCreate(type: ResourceType, object: KubeObject): void {
    const name = object.metadata.name ?? "";
    if (type.namespaced) {
      const ns = this.store.get(NAMESPACES, undefined, object.metadata.namespace!);
      if (!ns) throw notFound("", "namespaces", object.metadata.namespace!);
      if (ns.metadata.deletionTimestamp) {
        throw forbidden(type.group, type.resource, name, `unable to create new content in namespace ${ns.metadata.name} because it is being terminated`);
      }
    }
    if (type.custom && this.store.get(CRDS, undefined, `${type.resource}.${type.group}`)?.metadata.deletionTimestamp) {
      throw methodNotAllowed("create not allowed while custom resource definition is terminating");
    }
  }

  private commitCreate(type: ResourceType, object: KubeObject, options: WriteOptions, manage: (final: KubeObject) => ManagedEntry[]): Omit<WriteResult, "warnings"> {
    this.checkCanCreate(type, object);
    const now = this.now();
    const meta = object.metadata;
    meta.uid = randomUUID();
    meta.creationTimestamp = now;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    if (type.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    if (type.statusSubresource) delete object.status;
    type.prepareForCreate?.(object, { now });
    meta.managedFields = encodeManagedFields(manage(object));
    if (meta.managedFields === undefined) delete meta.managedFields;
    validate(type, object, undefined);
    if (this.store.get(type.storage, meta.namespace, meta.name!)) throw alreadyExists(type.group, type.resource, meta.name!);
    if (options.dryRun) return { object, created: true };
    const stored = this.store.create(type.storage, type.toStorage ? type.toStorage(object) : object);
    return { object: this.external(type, stored), created: true };
  }

  private commitUpdate(type: ResourceType, old: KubeObject, incoming: KubeObject, options: WriteOptions, applied?: ManagedEntry[]): Omit<WriteResult, "warnings"> {
    const name = old.metadata.name!;
    if (incoming.metadata.resourceVersion && incoming.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(type.group, type.resource, name, OBJECT_MODIFIED);
    }
    if (incoming.metadata.uid && incoming.metadata.uid !== old.metadata.uid) {
      throw invalid(type.group, type.kind, name, [{ field: "metadata.uid", reason: "FieldValueInvalid", body: `Invalid value: "${incoming.metadata.uid}": field is immutable` }]);
    }
    const now = this.now();
    let next: KubeObject;
    if (options.subresource === "status") {
      // Status writes change nothing but status.
      next = structuredClone(old);
      if (incoming.status === undefined) delete next.status;
      else next.status = incoming.status;
    } else {
      next = incoming;
      for (const key of ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "resourceVersion"] as const) {
        const meta: Record<string, unknown> = next.metadata;
        if (old.metadata[key] === undefined) delete meta[key];
        else meta[key] = old.metadata[key];
      }
      if (type.statusSubresource) {
        if (old.status === undefined) delete next.status;
        else next.status = structuredClone(old.status);
      }
      type.prepareForUpdate?.(next, old, { now });
    }
    if (type.tracksGeneration && !deepEqual(specPart(type, next), specPart(type, old))) {
      next.metadata.generation = (old.metadata.generation ?? 0) + 1;
    }
    const entries = applied
      ? settleApplied(applied, next, type)
      : trackUpdate(this.baseManagedFields(incoming, old, options), old, next, type, this.writer(type, options));
    next.metadata.managedFields = encodeManagedFields(entries);
    if (next.metadata.managedFields === undefined) delete next.metadata.managedFields;
    validate(type, next, old);
    if (deepEqual(next, old)) return { object: old, created: false };
    if (options.dryRun) return { object: next, created: false };
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      // Like the API server: no update, just the deletion (whose event carries the last stored state).
      return { object: this.external(type, this.lifecycle.remove(type.storage, next)), created: false };
    }
    const stored = this.store.update(type.storage, type.toStorage ? type.toStorage(next) : next);
    return { object: this.external(type, stored), created: false };
  }

  /** managedFields sent with the object replace the recorded ones (kubectl's ownership migration does this). */
  private baseManagedFields(incoming: KubeObject, old: KubeObject, options: WriteOptions): ManagedEntry[] {
    const sent = decodeManagedFields(incoming.metadata.managedFields);
    return options.subresource === "" && sent.length > 0 ? sent : decodeManagedFields(old.metadata.managedFields);
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions): DeleteResult {
    const old = this.get(type, namespace, name);
    const { uid, resourceVersion } = options.preconditions ?? {};
    if (uid && uid !== old.metadata.uid) {
      throw conflict(type.group, type.resource, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (resourceVersion && resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(type.group, type.resource, name, `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    if (options.dryRun) return { body: old, deleted: false };
    if (options.propagationPolicy === "Orphan") this.lifecycle.orphanDependents(old.metadata.uid!);
    const stored = this.store.get(type.storage, type.namespaced ? namespace : undefined, name)!;
    const pending = this.lifecycle.delete(type.storage, stored);
    if (pending) return { body: this.external(type, pending), deleted: false };
    return {
      body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 200, details: { name, group: type.group, kind: type.resource, uid: old.metadata.uid } },
      deleted: true,
    };
  }
}

/** What a generation counts: everything but metadata, and but status when status is a subresource. */
function specPart(type: ResourceType, object: KubeObject): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...object };
  delete rest.metadata;
  if (type.statusSubresource) delete rest.status;
  return rest;
}
