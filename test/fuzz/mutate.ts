// Mutations for fuzzing: edits of a JSON tree at a chosen node, and edits of raw text.
// A mutation picks its node by an index into the tree's paths at the time it is applied,
// so any sequence of mutations applies to any tree and shrinks towards small indices.
import * as fc from "fast-check";
import type { Json, JsonObject } from "./manifest-arbitraries.ts";

export type PathPart = string | number;

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every node's path, the root's ([]) first, depth first. */
export function allPaths(root: Json): PathPart[][] {
  const out: PathPart[][] = [];
  const stack: Array<[Json, PathPart[]]> = [[root, []]];
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [Json, PathPart[]];
    out.push(path);
    if (Array.isArray(node)) node.forEach((v, i) => stack.push([v, [...path, i]]));
    else if (isObject(node)) for (const [k, v] of Object.entries(node)) stack.push([v, [...path, k]]);
  }
  return out;
}

export function getAt(root: Json, path: readonly PathPart[]): Json | undefined {
  let node: Json | undefined = root;
  for (const part of path) {
    if (Array.isArray(node) && typeof part === "number") node = node[part];
    else if (isObject(node) && typeof part === "string") node = Object.hasOwn(node, part) ? node[part] : undefined;
    else return undefined;
  }
  return node;
}

function setAt(root: Json, path: readonly PathPart[], value: Json): Json {
  if (path.length === 0) return value;
  const parent = getAt(root, path.slice(0, -1));
  const last = path.at(-1) as PathPart;
  if (Array.isArray(parent) && typeof last === "number") parent[last] = value;
  // defineProperty: a key like "__proto__" must become a real key, as the YAML loader makes it.
  else if (isObject(parent)) Object.defineProperty(parent, last, { value, enumerable: true, writable: true, configurable: true });
  return root;
}

export type Mutation =
  | { op: "delete"; pick: number }
  | { op: "replace"; pick: number; value: Json }
  | { op: "addKey"; pick: number; key: string; value: Json }
  | { op: "duplicate"; pick: number }
  | { op: "share"; pick: number; target: number };

/**
 * Applies the mutation to `root` (in place where it can) and returns the new root and the path
 * it changed. Shared references (`share`) never point at an ancestor: the YAML stays acyclic.
 */
export function applyMutation(root: Json, m: Mutation): { root: Json; path: PathPart[] } {
  const paths = allPaths(root);
  const path = paths[m.pick % paths.length] as PathPart[];
  switch (m.op) {
    case "delete": {
      if (path.length === 0) return { root: null, path };
      const parent = getAt(root, path.slice(0, -1));
      const last = path.at(-1) as PathPart;
      if (Array.isArray(parent) && typeof last === "number") parent.splice(last, 1);
      else if (isObject(parent) && typeof last === "string") delete parent[last];
      return { root, path };
    }
    case "replace":
      return { root: setAt(root, path, structuredClone(m.value)), path };
    case "addKey": {
      // Into the node if it is a mapping, else into the closest mapping above it.
      for (let depth = path.length; depth >= 0; depth--) {
        const at = path.slice(0, depth);
        if (isObject(getAt(root, at))) {
          setAt(root, [...at, m.key], structuredClone(m.value));
          return { root, path: [...at, m.key] };
        }
      }
      return { root: setAt(root, path, { [m.key]: structuredClone(m.value) }), path };
    }
    case "duplicate": {
      const parent = getAt(root, path.slice(0, -1));
      const last = path.at(-1);
      if (Array.isArray(parent) && typeof last === "number") parent.splice(last, 0, structuredClone(parent[last] as Json));
      return { root, path };
    }
    case "share": {
      // Any node that is not an ancestor of (or the same as) the one replaced, and from which the
      // replaced node's parent cannot be reached (it may be shared already): no cycles.
      const parent = getAt(root, path.slice(0, -1));
      const candidates = paths.filter((p) => !(p.length <= path.length && p.every((part, i) => part === path[i])));
      if (candidates.length === 0 || path.length === 0) return { root, path };
      const source = getAt(root, candidates[m.target % candidates.length] as PathPart[]) as Json;
      if (reaches(source, parent)) return { root, path };
      return { root: setAt(root, path, source), path };
    }
  }
}

/** Whether `target` is `from` or lies inside it (by identity). */
function reaches(from: Json, target: Json | undefined): boolean {
  const seen = new Set<Json>();
  const stack: Json[] = [from];
  while (stack.length > 0) {
    const node = stack.pop() as Json;
    if (node === target) return true;
    if (typeof node !== "object" || node === null || seen.has(node)) continue;
    seen.add(node);
    stack.push(...(Array.isArray(node) ? node : Object.values(node)));
  }
  return false;
}

/** Strings that have broken parsers and validators before. */
export const HOSTILE_STRINGS = [
  "",
  " ",
  "$(id)",
  "`id`",
  "a;rm -rf /",
  "--uri=evil",
  "a\nb",
  "a\r\nb",
  "a\u0000b",
  "\u0430cme.example.com",
  "\uff41cme",
  "\u202eevil",
  "\u2028",
  "\u0085",
  "\ud800",
  "\udfff\ud800",
  "😀",
  "null",
  "~",
  "true",
  "0x1F",
  "1e400",
  "-.inf",
  ".nan",
  "2027-02-30T00:00:00Z",
  "*.example.com",
  "acme.example.com.",
  "Acme.Example.Com",
  "a".repeat(64),
  "root",
  "admin",
  "__proto__",
  "constructor",
  "<<",
  "!!binary",
  "&a *a",
  "%YAML 1.2",
  "---",
  "...",
  "{",
  "]",
  "#",
  "'",
  '"',
  "\\",
  "\t",
  "key: value",
];

/** Values of every JSON type, hostile strings, huge strings, and nesting near and past the parser's depth limit. */
export const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom<Json>(0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e21, 100_001, 65_536, true, false, null, [], {}) },
  {
    weight: 1,
    arbitrary: fc
      .record({ n: fc.integer({ min: 1_000, max: 400_000 }), unit: fc.constantFrom("a", "é", "😀", " ", "a ", "\n") })
      .map(({ n, unit }) => unit.repeat(Math.ceil(n / unit.length))),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 150 }).map((depth) => nest(depth)) },
);

function nest(depth: number): Json {
  let value: Json = "x";
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
}

/** Keys near the schemas' own, and keys no schema expects. */
export const hostileKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("userquota", "Domain", "spec", "status", "metadata", "kind", "apiVersion", "items", "tier", "__proto__", "constructor", "<<", "? x", "a.b", "a: b", "") },
  // Keys that break a line: a report must still keep each problem on one line.
  { weight: 1, arbitrary: fc.constantFrom("a\nb", "x\r\ny", "\n", "a\u2028b", "a\u0000b") },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
);

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("delete" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("replace" as const), pick: fc.nat(), value: hostileValue }),
  fc.record({ op: fc.constant("addKey" as const), pick: fc.nat(), key: hostileKey, value: hostileValue }),
  fc.record({ op: fc.constant("duplicate" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("share" as const), pick: fc.nat(), target: fc.nat() }),
);

/** Edits of raw text at a position: insert, delete, replace a span, truncate, repeat. */
export type TextEdit =
  | { op: "insert"; at: number; text: string }
  | { op: "delete"; at: number; length: number }
  | { op: "truncate"; at: number }
  | { op: "repeat"; at: number; length: number; times: number };

export const TEXT_FRAGMENTS = [
  "\n", "\r\n", "\t", " ", ": ", "- ", "---\n", "...\n", "#", "&a ", "*a", "*a\n", "!!str ", "!!int ", "!!binary ", "!!timestamp ",
  "!!js/function ", "!custom ", "!<tag:yaml.org,2002:str> ", "? ", "<<: *a\n", "{", "}", "[", "]", ",", "'", '"', "|\n", ">-\n",
  "%YAML 1.2\n", "%TAG ! tag:x,2000:\n", "\u0000", "\ufeff", "\u2028", "\u0085", "\ud800", "😀", "\\", "\\u0000", "~", "null", ".inf",
];

export const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...TEXT_FRAGMENTS), fc.string({ unit: "binary", maxLength: 8 })),
  }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("repeat" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 60 }), times: fc.integer({ min: 2, max: 2_000 }) }),
);

export function applyTextEdit(text: string, e: TextEdit): string {
  const at = text.length === 0 ? 0 : e.at % (text.length + 1);
  switch (e.op) {
    case "insert":
      return text.slice(0, at) + e.text + text.slice(at);
    case "delete":
      return text.slice(0, at) + text.slice(at + e.length);
    case "truncate":
      return text.slice(0, at);
    case "repeat":
      return text.slice(0, at) + text.slice(at, at + e.length).repeat(e.times) + text.slice(at + e.length);
  }
}
