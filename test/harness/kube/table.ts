// `meta.k8s.io/v1 Table` responses for `kubectl get`: Name, then the kind's printer columns
// (a CRD's additionalPrinterColumns), evaluated with the JSONPath subset printer columns use.
import { isPlainObject } from "./fieldsets.ts";
import type { KubeObject, PrinterColumn } from "./resources.ts";

export const AGE_COLUMN: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface Table {
  kind: "Table";
  apiVersion: "meta.k8s.io/v1";
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[];
  rows: Array<{ cells: unknown[]; object?: unknown }>;
}

export type IncludeObject = "None" | "Metadata" | "Object";

export function toTable(
  objects: readonly KubeObject[],
  columns: readonly PrinterColumn[],
  listMeta: Table["metadata"],
  includeObject: IncludeObject,
  now: Date,
): Table {
  const effective = columns.length > 0 ? columns : [AGE_COLUMN];
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMeta,
    columnDefinitions: [
      { name: "Name", type: "string", format: "name", description: "Name must be unique within a namespace.", priority: 0 },
      ...effective.map((c) => ({
        name: c.name,
        type: c.type,
        format: c.format ?? "",
        description: c.description ?? `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
        priority: c.priority ?? 0,
      })),
    ],
    rows: objects.map((o) => {
      const row: { cells: unknown[]; object?: unknown } = { cells: [o.metadata.name, ...effective.map((c) => cell(o, c, now))] };
      if (includeObject === "Object") row.object = o;
      else if (includeObject === "Metadata") row.object = { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata };
      return row;
    }),
  };
}

function cell(object: KubeObject, column: PrinterColumn, now: Date): unknown {
  const [value] = evaluateJsonPath(object, column.jsonPath);
  if (value === undefined || value === null) return null;
  switch (column.type) {
    case "string":
      return typeof value === "string" ? value : JSON.stringify(value);
    case "integer":
      return typeof value === "number" ? Math.trunc(value) : null;
    case "number":
      return typeof value === "number" ? value : null;
    case "boolean":
      return typeof value === "boolean" ? value : null;
    case "date": {
      if (typeof value !== "string") return null;
      const time = Date.parse(value);
      return Number.isNaN(time) ? "<invalid>" : humanDuration(now.getTime() - time);
    }
    default:
      return null;
  }
}

/**
 * Evaluates the JSONPath forms printer columns use: `.a.b`, `['a']`, `[0]`, `[*]` and filters
 * like `[?(@.type=="Ready")]`. Returns every match, in order.
 */
export function evaluateJsonPath(root: unknown, expression: string): unknown[] {
  let text = expression.trim();
  if (text.startsWith("{") && text.endsWith("}")) text = text.slice(1, -1);
  if (text.startsWith("$")) text = text.slice(1);
  let current: unknown[] = [root];
  let i = 0;
  const children = (node: unknown): unknown[] => (Array.isArray(node) ? (node as unknown[]) : isPlainObject(node) ? Object.values(node) : []);
  while (i < text.length) {
    if (text[i] === ".") {
      const m = /^\.([^.[\]]*)/.exec(text.slice(i))!;
      const name = m[1]!;
      current = name === "*" ? current.flatMap(children) : name === "" ? current : current.flatMap((n) => (isPlainObject(n) && name in n ? [n[name]] : []));
      i += m[0].length;
      continue;
    }
    if (text[i] !== "[") throw new Error(`unsupported JSONPath ${expression}`);
    const end = findClosingBracket(text, i);
    const inner = text.slice(i + 1, end).trim();
    i = end + 1;
    if (inner === "*") current = current.flatMap(children);
    else if (/^-?\d+$/.test(inner)) {
      const index = Number(inner);
      current = current.flatMap((n): unknown[] => {
        const item: unknown = Array.isArray(n) ? (n as unknown[]).at(index) : undefined;
        return item === undefined ? [] : [item];
      });
    } else if (/^'.*'$|^".*"$/.test(inner)) {
      const name = inner.slice(1, -1);
      current = current.flatMap((n) => (isPlainObject(n) && name in n ? [n[name]] : []));
    } else if (inner.startsWith("?(") && inner.endsWith(")")) {
      const filter = parseFilter(inner.slice(2, -1), expression);
      current = current.flatMap((n) => (Array.isArray(n) ? (n as unknown[]) : [])).filter(filter);
    } else {
      throw new Error(`unsupported JSONPath ${expression}`);
    }
  }
  return current;
}

function findClosingBracket(text: string, open: number): number {
  let quote: string | undefined;
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "[") depth++;
    else if (ch === "]" && --depth === 0) return i;
  }
  throw new Error(`unclosed [ in JSONPath ${text}`);
}

function parseFilter(text: string, expression: string): (item: unknown) => boolean {
  const m = /^@((?:\.[^.\s=!<>]+)+)\s*(==|!=)\s*(.+)$/.exec(text.trim());
  if (!m) throw new Error(`unsupported JSONPath filter in ${expression}`);
  const literal = m[3]!.trim();
  const expected: unknown = /^'.*'$/.test(literal) ? literal.slice(1, -1) : JSON.parse(literal);
  return (item) => {
    const [value] = evaluateJsonPath(item, m[1]!);
    return (value === expected) === (m[2] === "==");
  };
}

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration, which kubectl shows as AGE. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}
