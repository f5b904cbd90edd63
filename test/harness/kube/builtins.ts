// The built-in kinds an operator touches: Namespaces, ConfigMaps, Secrets, Events (core and
// events.k8s.io, one storage like the real server) and Leases, with their write strategies.
import type { KubeObject, PrinterColumn, ResourceType } from "./resources.ts";
import { CONFIG_MAP, CORE_EVENT, EVENTS_V1_EVENT, LEASE, NAMESPACE, SECRET } from "./schemas.ts";
import { type FieldCause, goValue } from "./status.ts";
import { AGE_COLUMN } from "./table.ts";
import { isPlainObject } from "./fieldsets.ts";

type Definition = Pick<ResourceType, "group" | "version" | "resource" | "kind" | "namespaced" | "schema"> & Partial<ResourceType>;

/** Built-in kinds: versioned Go types, so no generation, unconditional updates allowed. */
export function builtin(d: Definition): ResourceType {
  return {
    listKind: `${d.kind}List`,
    singular: d.kind.toLowerCase(),
    shortNames: [],
    categories: [],
    storage: `${d.group}/${d.resource}`,
    custom: false,
    tracksGeneration: false,
    statusSubresource: false,
    printerColumns: [],
    fieldSelectors: {},
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
    ...d,
  };
}

/** Field selector labels that are the object's own paths. */
const sameNames = (labels: readonly string[]): Record<string, string> => Object.fromEntries(labels.map((l) => [l, l]));

const column = (name: string, jsonPath: string): PrinterColumn => ({ name, type: "string", jsonPath });

const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
/** Storage key of Namespace objects. */
export const NAMESPACES = "/namespaces";

export const namespaces = builtin({
  group: "",
  version: "v1",
  resource: "namespaces",
  kind: "Namespace",
  namespaced: false,
  schema: NAMESPACE,
  shortNames: ["ns"],
  statusSubresource: true,
  printerColumns: [column("Status", ".status.phase"), AGE_COLUMN],
  fieldSelectors: { "status.phase": "status.phase" },
  prepareForCreate(ns) {
    ns.spec = { finalizers: ["kubernetes"] };
    ns.status = { phase: "Active" };
    ns.metadata.labels = { ...ns.metadata.labels, [NAMESPACE_NAME_LABEL]: ns.metadata.name! };
  },
  prepareForUpdate(ns, old) {
    // spec.finalizers changes only through /finalize, which the namespace lifecycle owns.
    ns.spec = structuredClone(old.spec);
    ns.metadata.labels = { ...ns.metadata.labels, [NAMESPACE_NAME_LABEL]: ns.metadata.name! };
  },
});

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const configKeyProblems = (object: KubeObject, field: "data" | "binaryData"): FieldCause[] =>
  Object.keys(isPlainObject(object[field]) ? object[field] : {})
    .filter((key) => !CONFIG_KEY.test(key) || key === "." || key === "..")
    .map((key) => ({
      field: `${field}[${key}]`,
      reason: "FieldValueInvalid",
      body: `Invalid value: ${goValue(key)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
    }));

function immutableProblems(object: KubeObject, old: KubeObject | undefined): FieldCause[] {
  if (old?.immutable !== true) return [];
  const forbidden = (field: string): FieldCause => ({ field, reason: "FieldValueForbidden", body: "Forbidden: field is immutable when `immutable` is set" });
  const problems: FieldCause[] = [];
  if (object.immutable !== true) problems.push(forbidden("immutable"));
  for (const field of ["data", "binaryData"]) {
    if (JSON.stringify(object[field] ?? {}) !== JSON.stringify(old[field] ?? {})) problems.push(forbidden(field));
  }
  return problems;
}

export const configMaps = builtin({
  group: "",
  version: "v1",
  resource: "configmaps",
  kind: "ConfigMap",
  namespaced: true,
  schema: CONFIG_MAP,
  shortNames: ["cm"],
  validate: (cm, old) => [...configKeyProblems(cm, "data"), ...configKeyProblems(cm, "binaryData"), ...immutableProblems(cm, old)],
});

/** Folds stringData into base64 data, as the Secret strategy does before storing. */
function foldStringData(secret: KubeObject): void {
  if (isPlainObject(secret.stringData)) {
    const data: Record<string, unknown> = isPlainObject(secret.data) ? secret.data : {};
    for (const [key, value] of Object.entries(secret.stringData)) data[key] = Buffer.from(String(value)).toString("base64");
    secret.data = data;
  }
  delete secret.stringData;
  secret.type ??= "Opaque";
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const secrets = builtin({
  group: "",
  version: "v1",
  resource: "secrets",
  kind: "Secret",
  namespaced: true,
  schema: SECRET,
  printerColumns: [column("Type", ".type"), AGE_COLUMN],
  fieldSelectors: { type: "type" },
  prepareForCreate: foldStringData,
  prepareForUpdate: foldStringData,
  validate(secret, old) {
    const problems = [...configKeyProblems(secret, "data"), ...immutableProblems(secret, old)];
    for (const [key, value] of Object.entries(isPlainObject(secret.data) ? secret.data : {})) {
      if (typeof value !== "string" || !BASE64.test(value)) {
        problems.push({ field: `data[${key}]`, reason: "FieldValueInvalid", body: `Invalid value: "<secret contents redacted>": illegal base64 data` });
      }
    }
    if (old && secret.type !== old.type) {
      problems.push({ field: "type", reason: "FieldValueInvalid", body: `Invalid value: ${goValue(secret.type)}: field is immutable` });
    }
    return problems;
  },
});

/** The core Event's fields that events.k8s.io/v1 renames; the rest are shared. */
const EVENT_RENAMES: ReadonlyArray<readonly [events: string, core: string]> = [
  ["regarding", "involvedObject"],
  ["note", "message"],
  ["reportingController", "reportingComponent"],
  ["deprecatedSource", "source"],
  ["deprecatedFirstTimestamp", "firstTimestamp"],
  ["deprecatedLastTimestamp", "lastTimestamp"],
  ["deprecatedCount", "count"],
];

function renameFields(object: KubeObject, pairs: ReadonlyArray<readonly [string, string]>, apiVersion: string): KubeObject {
  const out: KubeObject = { ...structuredClone(object), apiVersion };
  for (const [from, to] of pairs) {
    delete out[from];
    if (object[from] !== undefined) out[to] = structuredClone(object[from]);
  }
  return out;
}

function eventNamespaceProblems(event: KubeObject, regardingField: string): FieldCause[] {
  const regarding = event[regardingField];
  const namespace = isPlainObject(regarding) ? regarding.namespace : undefined;
  if (typeof namespace === "string" && namespace !== "" && namespace !== event.metadata.namespace) {
    return [{ field: `${regardingField}.namespace`, reason: "FieldValueInvalid", body: `Invalid value: ${goValue(namespace)}: does not match event.namespace` }];
  }
  return [];
}

export const coreEvents = builtin({
  group: "",
  version: "v1",
  resource: "events",
  kind: "Event",
  namespaced: true,
  schema: CORE_EVENT,
  storage: "events",
  shortNames: ["ev"],
  allowCreateOnUpdate: true,
  printerColumns: [column("Type", ".type"), column("Reason", ".reason"), column("Message", ".message"), AGE_COLUMN],
  fieldSelectors: {
    ...sameNames(["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"].map((f) => `involvedObject.${f}`)),
    ...sameNames(["reason", "reportingComponent", "type"]),
    source: "source.component",
  },
  validate: (event) => eventNamespaceProblems(event, "involvedObject"),
});

const required = (field: string): FieldCause => ({ field, reason: "FieldValueRequired", body: "Required value" });

export const eventsV1Events = builtin({
  group: "events.k8s.io",
  version: "v1",
  resource: "events",
  kind: "Event",
  namespaced: true,
  schema: EVENTS_V1_EVENT,
  storage: "events",
  shortNames: ["ev"],
  allowCreateOnUpdate: true,
  printerColumns: [column("Type", ".type"), column("Reason", ".reason"), column("Note", ".note"), AGE_COLUMN],
  fieldSelectors: sameNames([...["kind", "namespace", "name", "uid", "apiVersion"].map((f) => `regarding.${f}`), "reason", "reportingController", "type"]),
  toStorage: (event) => renameFields(event, EVENT_RENAMES, "v1"),
  fromStorage: (event) => renameFields(event, EVENT_RENAMES.map(([a, b]) => [b, a] as const), "events.k8s.io/v1"),
  validate(event) {
    const problems = eventNamespaceProblems(event, "regarding");
    if (!event.eventTime) problems.push(required("eventTime"));
    for (const field of ["reportingController", "reportingInstance", "action", "reason"]) {
      const value = event[field];
      if (typeof value !== "string" || value === "") problems.push(required(field));
      else if (value.length > 128) problems.push({ field, reason: "FieldValueTooLong", body: "Too long: may not be more than 128 bytes" });
    }
    if (event.type !== "Normal" && event.type !== "Warning") {
      problems.push({ field: "type", reason: "FieldValueNotSupported", body: `Unsupported value: ${goValue(event.type ?? "")}: supported values: "Normal", "Warning"` });
    }
    if (typeof event.note === "string" && Buffer.byteLength(event.note) > 1024) {
      problems.push({ field: "note", reason: "FieldValueTooLong", body: "Too long: may not be more than 1024 bytes" });
    }
    const series = event.series;
    if (isPlainObject(series) && (typeof series.count !== "number" || series.count < 2)) {
      problems.push({ field: "series.count", reason: "FieldValueInvalid", body: `Invalid value: ${goValue(series.count ?? 0)}: should be at least 2` });
    }
    return problems;
  },
});

export const leases = builtin({
  group: "coordination.k8s.io",
  version: "v1",
  resource: "leases",
  kind: "Lease",
  namespaced: true,
  schema: LEASE,
  printerColumns: [column("Holder", ".spec.holderIdentity"), AGE_COLUMN],
  validate(lease) {
    const spec = isPlainObject(lease.spec) ? lease.spec : {};
    const problems: FieldCause[] = [];
    if (typeof spec.leaseDurationSeconds === "number" && spec.leaseDurationSeconds <= 0) {
      problems.push({ field: "spec.leaseDurationSeconds", reason: "FieldValueInvalid", body: `Invalid value: ${spec.leaseDurationSeconds}: must be greater than 0` });
    }
    if (typeof spec.leaseTransitions === "number" && spec.leaseTransitions < 0) {
      problems.push({ field: "spec.leaseTransitions", reason: "FieldValueInvalid", body: `Invalid value: ${spec.leaseTransitions}: must be greater than or equal to 0` });
    }
    return problems;
  },
});
