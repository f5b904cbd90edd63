// /openapi/v3: the index and one OpenAPI 3.0 document per group-version, built from the served
// types. kubectl reads the PATCH operations: `x-kubernetes-group-version-kind` plus a
// `fieldValidation` query parameter means "this server validates fields" (so kubectl sends
// fieldValidation=Strict instead of validating itself), and the request body media types say
// whether strategic merge patch is accepted.
import { createHash } from "node:crypto";
import type { Schema } from "./openapi.ts";
import { patchTypesOf } from "./registry.ts";
import type { ResourceRegistry, ResourceType } from "./resources.ts";
import { OBJECT_META } from "./schemas.ts";

const OBJECT_META_REF = "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const PATCH_REF = "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const STATUS_REF = "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status";

/** `api/v1` or `apis/<group>/<version>`: the key of a group-version in the index. */
const groupVersionKey = (group: string, version: string) => (group === "" ? `api/${version}` : `apis/${group}/${version}`);

function componentName(t: Pick<ResourceType, "group" | "version" | "kind" | "custom">): string {
  if (t.custom) return `${t.group.split(".").reverse().join(".")}.${t.version}.${t.kind}`;
  return `io.k8s.api.${t.group === "" ? "core" : t.group.split(".")[0]}.${t.version}.${t.kind}`;
}

export function openApiIndex(resources: ResourceRegistry): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const { group, versions } of resources.groups()) {
    for (const version of versions) {
      const key = groupVersionKey(group, version);
      const hash = createHash("sha512").update(JSON.stringify(groupVersionDocument(resources, group, version))).digest("hex").toUpperCase();
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
    }
  }
  return { paths };
}

const queryParam = (name: string, type = "string") => ({ name, in: "query", schema: { type, uniqueItems: true } });
const pathParam = (name: string) => ({ name, in: "path", required: true, schema: { type: "string", uniqueItems: true } });
const writeParams = [queryParam("dryRun"), queryParam("fieldManager"), queryParam("fieldValidation")];
const listParams = ["allowWatchBookmarks:boolean", "continue", "fieldSelector", "labelSelector", "limit:integer", "resourceVersion", "resourceVersionMatch", "sendInitialEvents:boolean", "timeoutSeconds:integer", "watch:boolean"].map((p) => {
  const [name, type] = p.split(":");
  return queryParam(name!, type);
});

const json = (ref: string) => ({ "application/json": { schema: { $ref: ref } } });

export function groupVersionDocument(resources: ResourceRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const types = resources.inGroupVersion(group, version);
  if (types.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": objectMetaComponent(),
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch": { type: "object", description: "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body." },
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status": { type: "object", "x-kubernetes-group-version-kind": [{ group: "", kind: "Status", version: "v1" }] },
  };
  const base = `/${groupVersionKey(group, version)}`;
  for (const t of types) {
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const ref = `#/components/schemas/${componentName(t)}`;
    const listRef = `${ref}List`;
    schemas[componentName(t)] = { ...kindComponent(t.schema), "x-kubernetes-group-version-kind": [gvk] };
    schemas[`${componentName(t)}List`] = {
      type: "object",
      required: ["items"],
      properties: { apiVersion: { type: "string" }, kind: { type: "string" }, items: { type: "array", items: { $ref: ref } }, metadata: { type: "object" } },
      "x-kubernetes-group-version-kind": [{ ...gvk, kind: t.listKind }],
    };
    const op = (action: string, id: string, extra: Record<string, unknown> = {}) => ({
      operationId: `${id}${t.kind}`,
      responses: { "200": { description: "OK", content: json(action === "list" ? listRef : action === "delete" ? STATUS_REF : ref) } },
      "x-kubernetes-action": action,
      "x-kubernetes-group-version-kind": gvk,
      ...extra,
    });
    const body = (content: Record<string, unknown>) => ({ requestBody: { content, required: true } });
    const item = {
      get: op("get", "read"),
      put: op("put", "replace", { ...body(json(ref)), parameters: writeParams }),
      patch: op("patch", "patch", {
        ...body(Object.fromEntries(patchTypesOf(t).map((m) => [m, { schema: { $ref: PATCH_REF } }]))),
        parameters: [...writeParams, queryParam("force", "boolean")],
      }),
      delete: op("delete", "delete"),
    };
    const collection = {
      get: op("list", "list", { parameters: listParams }),
      post: op("post", "create", { ...body(json(ref)), parameters: writeParams }),
      delete: op("deletecollection", "deleteCollection"),
    };
    const prefix = t.namespaced ? `${base}/namespaces/{namespace}/${t.resource}` : `${base}/${t.resource}`;
    const scope = t.namespaced ? [pathParam("namespace")] : [];
    paths[prefix] = { ...collection, parameters: scope };
    paths[`${prefix}/{name}`] = { ...item, parameters: [pathParam("name"), ...scope] };
    if (t.statusSubresource) {
      const { get, put, patch } = item;
      paths[`${prefix}/{name}/status`] = { get, put, patch, parameters: [pathParam("name"), ...scope] };
    }
    if (t.namespaced) paths[`${base}/${t.resource}`] = { get: op("list", "listForAllNamespaces", { parameters: listParams }) };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "unversioned" },
    paths,
    components: { schemas },
  };
}

/** The kind's schema with metadata pointing at the shared ObjectMeta component, as the real documents do. */
function kindComponent(schema: Schema): Record<string, unknown> {
  return { ...schema, properties: { ...schema.properties, metadata: { allOf: [{ $ref: OBJECT_META_REF }], default: {} } } };
}

function objectMetaComponent(): Record<string, unknown> {
  const props = OBJECT_META.properties!;
  return {
    ...OBJECT_META,
    properties: {
      ...props,
      finalizers: { ...props.finalizers, "x-kubernetes-patch-strategy": "merge" },
      ownerReferences: { ...props.ownerReferences, "x-kubernetes-patch-merge-key": "uid", "x-kubernetes-patch-strategy": "merge" },
    },
  };
}
