// Parse multi-document YAML and validate every document against the kind it declares.
// Pure: text in, problems out. File and directory handling lives in the CLI.
import * as yaml from "js-yaml";
import type { z } from "zod";
import { API_VERSION, KINDS, type KindDefinition, objectSchema } from "./kinds.ts";

export interface Problem {
  /** `Kind/name` when the document says so, otherwise `document N` (1-based). */
  object: string;
  /** Field path like `spec.features[2]`; empty for problems of the whole document or file. */
  path: string;
  message: string;
}

export interface ValidManifest {
  kind: string;
  name: string;
  /** The object with defaults applied. */
  object: Record<string, unknown>;
}

export interface ManifestReport {
  problems: Problem[];
  valid: ValidManifest[];
}

/** The Kubernetes API refuses objects larger than etcd's default request limit. */
export const MAX_OBJECT_BYTES = 1_572_864;
/**
 * Guards against YAML alias bombs (a few lines that expand to billions of values) before
 * anything walks the document. Far above what a 64 MiB file of plain values holds.
 */
const MAX_NODES = 5_000_000;

const schemas = new Map(KINDS.map((def: KindDefinition) => [def.kind, objectSchema(def)]));
const kindNames = KINDS.map((k) => k.kind).join(", ");

export function validateManifestText(text: string): ManifestReport {
  const report = readManifestText(text);
  // One problem, one line: a key or value may carry a newline into a path or message.
  report.problems = report.problems.map((p) => ({ object: oneLine(p.object), path: oneLine(p.path), message: oneLine(p.message) }));
  return report;
}

function readManifestText(text: string): ManifestReport {
  const report: ManifestReport = { problems: [], valid: [] };
  let documents: unknown[];
  try {
    documents = yaml.loadAll(text, null, { schema: yaml.CORE_SCHEMA });
  } catch (error) {
    report.problems.push({ object: "file", path: "", message: yamlErrorMessage(error) });
    return report;
  }
  // A trailing `---` leaves one empty document at the end; kubectl ignores it and so do we.
  if (documents.length > 1 && documents.at(-1) == null) documents.pop();
  if (documents.every((d) => d == null)) {
    report.problems.push({ object: "file", path: "", message: "no manifests found (the file is empty)" });
    return report;
  }
  documents.forEach((doc, index) => validateDocument(doc, `document ${index + 1}`, report));
  return report;
}

function validateDocument(doc: unknown, label: string, report: ManifestReport): void {
  if (doc == null) {
    report.problems.push({ object: label, path: "", message: "empty document (two '---' separators in a row?)" });
    return;
  }
  if (!isRecord(doc)) {
    report.problems.push({ object: label, path: "", message: `must be a mapping with apiVersion, kind and metadata, not ${describe(doc)}` });
    return;
  }
  if (countNodes(doc, MAX_NODES) > MAX_NODES) {
    report.problems.push({ object: label, path: "", message: `too complex: more than ${MAX_NODES} values (YAML aliases expanding?)` });
    return;
  }
  const object = objectLabel(doc) ?? label;
  if (doc.apiVersion === "v1" && doc.kind === "List") {
    if (!Array.isArray(doc.items)) {
      report.problems.push({ object, path: "items", message: "must be a list of objects" });
      return;
    }
    doc.items.forEach((item, i) => validateDocument(item, `${label} item ${i + 1}`, report));
    return;
  }

  const size = JSON.stringify(doc).length;
  if (size > MAX_OBJECT_BYTES) {
    report.problems.push({ object, path: "", message: `is ${size} bytes; the Kubernetes API accepts at most ${MAX_OBJECT_BYTES}` });
  }
  const schema = typeof doc.kind === "string" ? schemas.get(doc.kind) : undefined;
  if (doc.apiVersion !== API_VERSION) {
    report.problems.push({
      object,
      path: "apiVersion",
      message: doc.apiVersion === undefined ? `is required (${API_VERSION})` : `must be ${API_VERSION}, not ${describe(doc.apiVersion)}`,
    });
  }
  if (schema === undefined) {
    report.problems.push({
      object,
      path: "kind",
      message: doc.kind === undefined ? `is required (one of ${kindNames})` : `unsupported kind ${describe(doc.kind)}; expected one of ${kindNames}`,
    });
    return;
  }
  const result = schema.safeParse(doc);
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.path[0] === "apiVersion" || issue.path[0] === "kind") continue; // reported above
      report.problems.push(...issueProblems(object, issue));
    }
    return;
  }
  if (size <= MAX_OBJECT_BYTES && !report.problems.some((p) => p.object === object)) {
    report.valid.push({ kind: result.data.kind, name: result.data.metadata.name, object: result.data });
  }
}

function issueProblems(object: string, issue: z.core.$ZodIssue): Problem[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({ object, path: formatPath([...issue.path, key]), message: "unknown field" }));
  }
  const path = formatPath(issue.path);
  if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) {
    return [{ object, path, message: "is required" }];
  }
  if (issue.code === "invalid_type") {
    return [{ object, path, message: `must be ${article(issue.expected)}` }];
  }
  return [{ object, path, message: issue.message }];
}

/** `spec.features[2].name`, the way kubectl and the API server print field paths. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

function objectLabel(doc: Record<string, unknown>): string | undefined {
  const meta = doc.metadata;
  if (typeof doc.kind !== "string" || !isRecord(meta) || typeof meta.name !== "string") return undefined;
  return `${printable(doc.kind)}/${printable(meta.name)}`;
}

// eslint-disable-next-line no-control-regex
const LINE_BREAKING = /[\x00-\x1f\x7f\u0085\u2028\u2029]/g;
const ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** Control characters and line separators, escaped as in JSON. */
function oneLine(text: string): string {
  return text.replace(LINE_BREAKING, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Keep one problem on one line, whatever the document put in its name. */
function printable(value: string): string {
  const short = value.length > 80 ? `${value.slice(0, 80)}...` : value;
  return JSON.stringify(short).slice(1, -1);
}

function describe(value: unknown): string {
  if (typeof value === "string") return `"${printable(value)}"`;
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value) ?? ""}`;
}

function article(expected: string): string {
  const names: Record<string, string> = {
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    object: "a mapping",
    array: "a list",
  };
  return names[expected] ?? `of type ${expected}`;
}

function yamlErrorMessage(error: unknown): string {
  if (error instanceof yaml.YAMLException && error.mark) {
    return `line ${error.mark.line + 1}, column ${error.mark.column + 1}: YAML syntax error: ${error.reason}`;
  }
  if (error instanceof RangeError) return "YAML syntax error: nesting too deep";
  return `YAML syntax error: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Counts values, following shared references every time, and stops once past the limit. */
function countNodes(root: unknown, limit: number): number {
  let count = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0 && count <= limit) {
    const value = stack.pop();
    count++;
    // One push at a time: spreading a huge list into push() overflows the call stack.
    if (Array.isArray(value)) for (const v of value) stack.push(v);
    else if (isRecord(value)) for (const v of Object.values(value)) stack.push(v);
  }
  return count;
}
