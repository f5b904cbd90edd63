// Field paths and sets in the shape of sigs.k8s.io/structured-merge-diff: the granularity that
// managedFields (FieldsV1) and server-side apply work at. Objects are granular per field, lists
// follow x-kubernetes-list-type (atomic by default, `set` per value, `map` per key).
import type { Schema } from "./openapi.ts";

/** `f:name`, `k:{"type":"Ready"}`, `v:"value"` or `i:0`. */
export type PathElement = string;
export type FieldPath = readonly PathElement[];

const keyOfPath = (path: FieldPath) => JSON.stringify(path);

export class FieldSet {
  private readonly members = new Map<string, FieldPath>();

  static of(paths: Iterable<FieldPath>): FieldSet {
    const set = new FieldSet();
    for (const p of paths) set.add(p);
    return set;
  }

  add(path: FieldPath): void {
    this.members.set(keyOfPath(path), path);
  }

  has(path: FieldPath): boolean {
    return this.members.has(keyOfPath(path));
  }

  get size(): number {
    return this.members.size;
  }

  paths(): FieldPath[] {
    return [...this.members.values()];
  }

  union(other: FieldSet): FieldSet {
    return FieldSet.of([...this.paths(), ...other.paths()]);
  }

  difference(other: FieldSet): FieldSet {
    return FieldSet.of(this.paths().filter((p) => !other.has(p)));
  }

  intersection(other: FieldSet): FieldSet {
    return FieldSet.of(this.paths().filter((p) => other.has(p)));
  }

  equals(other: FieldSet): boolean {
    return this.size === other.size && this.paths().every((p) => other.has(p));
  }

  /** The FieldsV1 tree of managedFields: `{"f:spec": {"f:domain": {}}}`, `"."` marks a member that also has children. */
  toFieldsV1(): Record<string, unknown> {
    type Node = { member: boolean; children: Map<string, Node> };
    const root: Node = { member: false, children: new Map() };
    for (const path of this.paths()) {
      let node = root;
      for (const element of path) {
        if (!node.children.has(element)) node.children.set(element, { member: false, children: new Map() });
        node = node.children.get(element)!;
      }
      node.member = true;
    }
    const encode = (node: Node): Record<string, unknown> => {
      const out: Record<string, unknown> = {};
      if (node.member && node.children.size > 0) out["."] = {};
      for (const key of [...node.children.keys()].sort()) out[key] = encode(node.children.get(key)!);
      return out;
    };
    return encode(root);
  }

  static fromFieldsV1(tree: unknown): FieldSet {
    const set = new FieldSet();
    const walk = (node: unknown, prefix: PathElement[]) => {
      if (!isPlainObject(node)) return;
      const keys = Object.keys(node);
      if (keys.length === 0 && prefix.length > 0) set.add(prefix);
      for (const key of keys) {
        if (key === ".") set.add(prefix);
        else walk(node[key], [...prefix, key]);
      }
    };
    walk(tree, []);
    return set;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

type ListType = "atomic" | "set" | "map";
const listTypeOf = (schema: Schema | undefined): ListType => schema?.["x-kubernetes-list-type"] ?? "atomic";

/** The schema of a field or list item, or undefined where the schema says nothing (then everything is granular maps and atomic lists). */
function childSchema(schema: Schema | undefined, element: PathElement): Schema | undefined {
  if (schema === undefined) return undefined;
  if (element.startsWith("f:")) {
    const name = element.slice(2);
    return schema.properties?.[name] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
  }
  return schema.items;
}

function keyElement(item: unknown, keys: readonly string[]): PathElement {
  const record = isPlainObject(item) ? item : {};
  const fields = [...keys].sort().map((k) => [k, record[k]] as const);
  return `k:${JSON.stringify(Object.fromEntries(fields))}`;
}

export interface CollectedFields {
  /** Every owned path: leaves, list items and map keys. */
  all: FieldSet;
  /** Paths whose value is compared as a whole (scalars, atomic lists, empty objects). */
  leaves: FieldSet;
}

/** The field set of a value, as structured-merge-diff computes it for managedFields. */
export function collectFields(value: unknown, schema: Schema | undefined, prefix: FieldPath = []): CollectedFields {
  const out: CollectedFields = { all: new FieldSet(), leaves: new FieldSet() };
  const leaf = (path: FieldPath) => {
    out.all.add(path);
    out.leaves.add(path);
  };
  const walk = (node: unknown, s: Schema | undefined, path: FieldPath): void => {
    if (Array.isArray(node)) {
      const listType = listTypeOf(s);
      if (listType === "atomic") return leaf(path);
      for (const item of node) {
        if (listType === "set") {
          leaf([...path, `v:${JSON.stringify(item)}`]);
        } else {
          const itemPath = [...path, keyElement(item, s?.["x-kubernetes-list-map-keys"] ?? [])];
          out.all.add(itemPath);
          walk(item, s?.items, itemPath);
        }
      }
      return;
    }
    if (isPlainObject(node) && s?.["x-kubernetes-map-type"] !== "atomic") {
      const keys = Object.keys(node);
      if (keys.length === 0) {
        if (path.length > 0) leaf(path);
        return;
      }
      for (const key of keys) {
        const childPath = [...path, `f:${key}`];
        walk(node[key], childSchema(s, `f:${key}`), childPath);
        // Map entries (not named fields) are members themselves, like labels.
        if (node[key] === null || s?.properties?.[key] === undefined) out.all.add(childPath);
      }
      return;
    }
    leaf(path);
  };
  walk(value, schema, prefix);
  return out;
}

/** The value at a field path, if the object has it. */
export function valueAt(root: unknown, path: FieldPath): { found: boolean; value: unknown } {
  let node = root;
  for (const element of path) {
    const located = locate(node, element);
    if (!located) return { found: false, value: undefined };
    node = located.value;
  }
  return { found: true, value: node };
}

/** Removes the field, list item or set value at the path; a no-op when it is absent. */
export function removePath(root: unknown, path: FieldPath): void {
  if (path.length === 0) return;
  const parent = valueAt(root, path.slice(0, -1));
  if (!parent.found) return;
  const located = locate(parent.value, path.at(-1)!);
  if (!located) return;
  if (Array.isArray(parent.value)) parent.value.splice(located.index, 1);
  else if (isPlainObject(parent.value)) delete parent.value[located.key];
}

function locate(node: unknown, element: PathElement): { value: unknown; index: number; key: string } | undefined {
  const kind = element.slice(0, 2);
  const rest = element.slice(2);
  if (kind === "f:") {
    return isPlainObject(node) && rest in node ? { value: node[rest], index: -1, key: rest } : undefined;
  }
  if (!Array.isArray(node)) return undefined;
  let index = -1;
  if (kind === "i:") index = Number(rest) < node.length ? Number(rest) : -1;
  else if (kind === "v:") index = node.findIndex((item) => JSON.stringify(item) === rest);
  else if (kind === "k:") {
    const wanted = JSON.parse(rest) as Record<string, unknown>;
    index = node.findIndex((item) => isPlainObject(item) && Object.entries(wanted).every(([k, v]) => deepEqual(item[k], v)));
  }
  return index === -1 ? undefined : { value: node[index], index, key: "" };
}

/** structured-merge-diff's path notation for conflict messages: `.spec.x`, `.status.conditions[type="Ready"]`. */
export function formatFieldPath(path: FieldPath): string {
  return path
    .map((element) => {
      const rest = element.slice(2);
      if (element.startsWith("f:")) return `.${rest}`;
      if (element.startsWith("i:")) return `[${rest}]`;
      if (element.startsWith("v:")) return `[=${rest}]`;
      const key = JSON.parse(rest) as Record<string, unknown>;
      return `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",")}]`;
    })
    .join("");
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}
