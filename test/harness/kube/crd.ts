// CustomResourceDefinitions: the CRD kind itself (validation, the status the API server writes)
// and the resource types a CRD makes the server serve.
import type { Schema } from "./openapi.ts";
import { type KubeObject, type PrinterColumn, type ResourceRegistry, type ResourceType, compareVersions } from "./resources.ts";
import type { Store } from "./store.ts";
import { CUSTOM_RESOURCE_DEFINITION, OBJECT_META } from "./schemas.ts";
import { type FieldCause, goValue } from "./status.ts";
import { builtin } from "./builtins.ts";
import { isPlainObject } from "./fieldsets.ts";

export const CRD_CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io";
/** Storage key of CustomResourceDefinition objects. */
export const CRDS = "apiextensions.k8s.io/customresourcedefinitions";

interface CrdNames {
  plural?: string;
  singular?: string;
  kind?: string;
  listKind?: string;
  shortNames?: string[];
  categories?: string[];
}

interface CrdVersion {
  name?: string;
  served?: boolean;
  storage?: boolean;
  schema?: { openAPIV3Schema?: Schema };
  subresources?: { status?: unknown };
  additionalPrinterColumns?: PrinterColumn[];
  selectableFields?: Array<{ jsonPath?: string }>;
}

interface CrdSpec {
  group?: string;
  names?: CrdNames;
  scope?: string;
  versions?: CrdVersion[];
}

const specOf = (crd: KubeObject): CrdSpec => (isPlainObject(crd.spec) ? crd.spec : {});

function acceptedNames(spec: CrdSpec): Required<CrdNames> {
  const names = spec.names ?? {};
  const kind = names.kind ?? "";
  return {
    plural: names.plural ?? "",
    singular: names.singular ?? kind.toLowerCase(),
    kind,
    listKind: names.listKind ?? `${kind}List`,
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
  };
}

function condition(type: string, reason: string, message: string, now: string) {
  return { type, status: "True", lastTransitionTime: now, reason, message };
}

/** The status the API server's CRD controllers write: names accepted, established, stored versions. */
function writeStatus(crd: KubeObject, old: KubeObject | undefined, now: string): void {
  const spec = specOf(crd);
  const oldStatus = isPlainObject(old?.status) ? old.status : {};
  const oldConditions = Array.isArray(oldStatus.conditions) ? (oldStatus.conditions as Array<{ type: string }>) : [];
  const stored = new Set(Array.isArray(oldStatus.storedVersions) ? (oldStatus.storedVersions as string[]) : []);
  const storage = spec.versions?.find((v) => v.storage)?.name;
  if (storage) stored.add(storage);
  crd.status = {
    conditions:
      oldConditions.length > 0
        ? structuredClone(oldConditions)
        : [
            condition("NamesAccepted", "NoConflicts", "no conflicts found", now),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted", now),
          ],
    acceptedNames: acceptedNames(spec),
    storedVersions: [...stored],
  };
}

function crdProblems(crd: KubeObject, old: KubeObject | undefined): FieldCause[] {
  const spec = specOf(crd);
  const problems: FieldCause[] = [];
  const requiredValue = (field: string, detail = ""): FieldCause => ({ field, reason: "FieldValueRequired", body: detail ? `Required value: ${detail}` : "Required value" });
  if (!spec.group) problems.push(requiredValue("spec.group"));
  else if (!spec.group.includes(".")) {
    problems.push({ field: "spec.group", reason: "FieldValueInvalid", body: `Invalid value: ${goValue(spec.group)}: should be a domain with at least one dot` });
  }
  if (!spec.names?.plural) problems.push(requiredValue("spec.names.plural"));
  if (!spec.names?.kind) problems.push(requiredValue("spec.names.kind"));
  if (spec.group && spec.names?.plural && crd.metadata.name !== `${spec.names.plural}.${spec.group}`) {
    problems.push({ field: "metadata.name", reason: "FieldValueInvalid", body: `Invalid value: ${goValue(crd.metadata.name)}: must be spec.names.plural+"."+spec.group` });
  }
  if (spec.scope !== "Namespaced" && spec.scope !== "Cluster") {
    problems.push({ field: "spec.scope", reason: "FieldValueNotSupported", body: `Unsupported value: ${goValue(spec.scope ?? "")}: supported values: "Cluster", "Namespaced"` });
  }
  const versions = spec.versions ?? [];
  if (versions.length === 0) problems.push(requiredValue("spec.versions"));
  else if (versions.filter((v) => v.storage).length !== 1) {
    problems.push({ field: "spec.versions", reason: "FieldValueInvalid", body: `Invalid value: ${goValue(versions)}: must have exactly one version marked as storage version` });
  }
  versions.forEach((v, i) => {
    if (!v.name) problems.push(requiredValue(`spec.versions[${i}].name`));
    if (!isPlainObject(v.schema?.openAPIV3Schema)) problems.push(requiredValue(`spec.versions[${i}].schema.openAPIV3Schema`, "schemas are required"));
  });
  const oldSpec = old ? specOf(old) : undefined;
  for (const field of ["group", "scope"] as const) {
    if (oldSpec && oldSpec[field] !== spec[field]) {
      problems.push({ field: `spec.${field}`, reason: "FieldValueInvalid", body: `Invalid value: ${goValue(spec[field])}: field is immutable` });
    }
  }
  return problems;
}

export const customResourceDefinitions = builtin({
  group: "apiextensions.k8s.io",
  version: "v1",
  resource: "customresourcedefinitions",
  kind: "CustomResourceDefinition",
  namespaced: false,
  schema: CUSTOM_RESOURCE_DEFINITION,
  shortNames: ["crd", "crds"],
  categories: ["api-extensions"],
  tracksGeneration: true,
  statusSubresource: true,
  allowUnconditionalUpdate: false,
  printerColumns: [{ name: "Created At", type: "string", jsonPath: ".metadata.creationTimestamp" }],
  prepareForCreate(crd, { now }) {
    const finalizers = crd.metadata.finalizers ?? [];
    if (!finalizers.includes(CRD_CLEANUP_FINALIZER)) crd.metadata.finalizers = [...finalizers, CRD_CLEANUP_FINALIZER];
    writeStatus(crd, undefined, now);
  },
  prepareForUpdate(crd, old, { now }) {
    writeStatus(crd, old, now);
  },
  validate: crdProblems,
});

/** The resource types a CRD defines: one per served version, sharing the storage version's objects. */
function customResourceTypes(crd: KubeObject): ResourceType[] {
  const spec = specOf(crd);
  const names = acceptedNames(spec);
  const group = spec.group ?? "";
  const storageVersion = spec.versions?.find((v) => v.storage)?.name ?? "";
  return (spec.versions ?? [])
    .filter((v) => v.served !== false && v.name && v.schema?.openAPIV3Schema)
    .sort((a, b) => compareVersions(a.name!, b.name!))
    .map((v) => {
      const root = structuredClone(v.schema!.openAPIV3Schema!);
      const apiVersion = `${group}/${v.name}`;
      return {
        group,
        version: v.name!,
        resource: names.plural,
        kind: names.kind,
        listKind: names.listKind,
        singular: names.singular,
        namespaced: spec.scope === "Namespaced",
        shortNames: names.shortNames,
        categories: names.categories,
        storage: crdStorageOf(crd),
        // The API server validates metadata itself; the CRD only says `type: object`.
        schema: { ...root, properties: { ...root.properties, apiVersion: { type: "string" }, kind: { type: "string" }, metadata: OBJECT_META } },
        custom: true,
        tracksGeneration: true,
        statusSubresource: v.subresources?.status !== undefined,
        printerColumns: v.additionalPrinterColumns ?? [],
        fieldSelectors: Object.fromEntries(
          (v.selectableFields ?? []).filter((f) => f.jsonPath).map((f) => [f.jsonPath!.replace(/^\./, ""), f.jsonPath!.replace(/^\./, "")]),
        ),
        allowCreateOnUpdate: false,
        allowUnconditionalUpdate: false,
        // Versions differ only in apiVersion here (conversion strategy None).
        toStorage: (o: KubeObject) => ({ ...o, apiVersion: `${group}/${storageVersion}` }),
        fromStorage: (o: KubeObject) => ({ ...o, apiVersion }),
      };
    });
}

/** Keeps the served custom resource types in step with the stored CRDs. */
export function syncCustomResourceTypes(store: Store, resources: ResourceRegistry): void {
  store.subscribe((event) => {
    if (event.storage !== CRDS) return;
    for (const crd of [event.previous, event.object]) {
      const spec = crd ? specOf(crd) : {};
      resources.remove(spec.group ?? "", spec.names?.plural ?? "");
    }
    if (event.type !== "DELETED") for (const type of customResourceTypes(event.object)) resources.add(type);
  });
}

/** Where a CRD's custom resources are stored. */
export function crdStorageOf(crd: KubeObject): string {
  const spec = specOf(crd);
  return `${spec.group ?? ""}/${spec.names?.plural ?? ""}`;
}

/** The condition the API server sets while a CRD's custom resources are being deleted. */
export function markCrdTerminating(crd: KubeObject, now: string): void {
  const status = isPlainObject(crd.status) ? crd.status : {};
  const conditions = Array.isArray(status.conditions) ? (status.conditions as Array<{ type: string }>) : [];
  crd.status = {
    ...status,
    conditions: [
      ...conditions.filter((c) => c.type !== "Terminating"),
      { type: "Terminating", status: "True", lastTransitionTime: now, reason: "InstanceDeletionInProgress", message: "CustomResource deletion is in progress" },
    ],
  };
}
