// The non-apply patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902), and the part
// of strategic merge patch that the built-in kinds served here need.
import { ApiError, badRequest } from "./status.ts";
import { deepEqual, isPlainObject } from "./fieldsets.ts";

export const MERGE_PATCH = "application/merge-patch+json";
export const JSON_PATCH = "application/json-patch+json";
export const STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json";
export const APPLY_PATCH = "application/apply-patch+yaml";

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

interface JsonPatchOperation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

/** 422 like the API server when an operation cannot be applied (a failed `test` included). */
const unprocessable = (message: string) => new ApiError(422, "Invalid", message);

export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  let doc = structuredClone(target);
  for (const raw of operations) {
    if (!isPlainObject(raw) || typeof raw.op !== "string" || typeof raw.path !== "string") {
      throw badRequest(`invalid JSON patch operation: ${JSON.stringify(raw)}`);
    }
    const op = raw as unknown as JsonPatchOperation;
    switch (op.op) {
      case "add":
        doc = put(doc, op.path, requireValue(op), "add");
        break;
      case "replace":
        get(doc, op.path, "replace");
        doc = put(doc, op.path, requireValue(op), "replace");
        break;
      case "remove":
        doc = remove(doc, op.path);
        break;
      case "move": {
        const value = get(doc, requireFrom(op), "move");
        doc = put(remove(doc, requireFrom(op)), op.path, value, "add");
        break;
      }
      case "copy":
        doc = put(doc, op.path, structuredClone(get(doc, requireFrom(op), "copy")), "add");
        break;
      case "test":
        if (!deepEqual(get(doc, op.path, "test"), op.value)) throw unprocessable(`testing value ${op.path} failed: test failed`);
        break;
      default:
        throw badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}

function requireValue(op: JsonPatchOperation): unknown {
  if (!("value" in op)) throw badRequest(`missing value for ${op.op} operation at ${op.path}`);
  return structuredClone(op.value);
}

function requireFrom(op: JsonPatchOperation): string {
  if (typeof op.from !== "string") throw badRequest(`missing from for ${op.op} operation at ${op.path}`);
  return op.from;
}

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw badRequest(`JSON pointer must start with '/': ${path}`);
  return path
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function get(doc: unknown, path: string, op: string): unknown {
  let node = doc;
  for (const part of pointer(path)) {
    if (Array.isArray(node) && /^\d+$/.test(part) && Number(part) < node.length) node = node[Number(part)];
    else if (isPlainObject(node) && part in node) node = node[part];
    else throw unprocessable(`${op} operation does not apply: doc is missing path: ${path}`);
  }
  return node;
}

function put(doc: unknown, path: string, value: unknown, op: string): unknown {
  const parts = pointer(path);
  if (parts.length === 0) return value;
  const parent = get(doc, `/${parts.slice(0, -1).map(escape).join("/")}`.replace(/^\/$/, ""), op);
  const last = parts.at(-1)!;
  if (Array.isArray(parent)) {
    const index = last === "-" ? parent.length : /^\d+$/.test(last) ? Number(last) : NaN;
    if (!(index >= 0 && index <= parent.length)) throw unprocessable(`${op} operation does not apply: doc is missing path: ${path}`);
    if (op === "replace") parent[index] = value;
    else parent.splice(index, 0, value);
  } else if (isPlainObject(parent)) {
    parent[last] = value;
  } else {
    throw unprocessable(`${op} operation does not apply: doc is missing path: ${path}`);
  }
  return doc;
}

function remove(doc: unknown, path: string): unknown {
  const parts = pointer(path);
  get(doc, path, "remove");
  const parent = get(doc, `/${parts.slice(0, -1).map(escape).join("/")}`.replace(/^\/$/, ""), "remove");
  const last = parts.at(-1)!;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isPlainObject(parent)) delete parent[last];
  return doc;
}

const escape = (part: string) => part.replace(/~/g, "~0").replace(/\//g, "~1");

/** Lists the built-in kinds here merge by key or as a set under strategic merge patch. */
const STRATEGIC_LISTS: Readonly<Record<string, { mergeKey?: string }>> = {
  "metadata.finalizers": {},
  "metadata.ownerReferences": { mergeKey: "uid" },
};

/**
 * Strategic merge patch as kubectl sends it for ConfigMaps, Secrets and the like: a merge patch
 * plus the `$patch`, `$setElementOrder`, `$retainKeys` and `$deleteFromPrimitiveList` directives,
 * and merging of metadata.finalizers and metadata.ownerReferences.
 */
export function strategicMergePatch(target: unknown, patch: unknown, path = ""): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  if (patch.$patch === "replace") {
    const replaced = structuredClone(patch);
    delete replaced.$patch;
    return replaced;
  }
  if (patch.$patch === "delete") return undefined;
  const result: Record<string, unknown> = isPlainObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === "$patch" || key === "$retainKeys" || key.startsWith("$setElementOrder/")) continue;
    if (key.startsWith("$deleteFromPrimitiveList/")) {
      const list = key.slice("$deleteFromPrimitiveList/".length);
      if (Array.isArray(result[list]) && Array.isArray(value)) result[list] = result[list].filter((v) => !value.some((d) => deepEqual(d, v)));
      continue;
    }
    const childPath = path === "" ? key : `${path}.${key}`;
    const list = STRATEGIC_LISTS[childPath];
    if (value === null) delete result[key];
    else if (list && Array.isArray(value)) result[key] = mergeList(result[key], value, list.mergeKey);
    else {
      const merged = strategicMergePatch(result[key], value, childPath);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    }
  }
  return result;
}

function mergeList(current: unknown, patch: unknown[], mergeKey: string | undefined): unknown[] {
  const result = Array.isArray(current) ? structuredClone(current) : [];
  for (const item of patch) {
    if (mergeKey === undefined) {
      if (!result.some((r) => deepEqual(r, item))) result.push(structuredClone(item));
      continue;
    }
    const key = isPlainObject(item) ? item[mergeKey] : undefined;
    const index = result.findIndex((r) => isPlainObject(r) && r[mergeKey] === key);
    if (isPlainObject(item) && item.$patch === "delete") {
      if (index !== -1) result.splice(index, 1);
    } else if (index === -1) result.push(structuredClone(item));
    else result[index] = mergePatch(result[index], item);
  }
  return result;
}
