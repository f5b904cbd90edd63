// Label and field selectors with the API server's grammar (k8s.io/apimachinery/pkg/labels and
// pkg/fields): equality, inequality, set-based and existence requirements.
import { badRequest } from "./status.ts";

export type LabelRequirement =
  | { key: string; op: "exists" | "!exists" }
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: ">" | "<"; value: number };

export type LabelSelector = LabelRequirement[];

const KEY = String.raw`[A-Za-z0-9][-A-Za-z0-9_./]*`;
const patterns: Array<[RegExp, (m: RegExpExecArray) => LabelRequirement]> = [
  [new RegExp(String.raw`^!\s*(${KEY})$`), (m) => ({ key: m[1]!, op: "!exists" })],
  [new RegExp(String.raw`^(${KEY})$`), (m) => ({ key: m[1]!, op: "exists" })],
  [new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*([-A-Za-z0-9_.]*)$`), (m) => ({ key: m[1]!, op: m[2] === "!=" ? "!=" : "=", value: m[3]! })],
  [
    new RegExp(String.raw`^(${KEY})\s+(in|notin)\s*\(([^()]*)\)$`),
    (m) => ({ key: m[1]!, op: m[2] === "in" ? "in" : "notin", values: m[3]!.split(",").map((v) => v.trim()).filter((v) => v !== "") }),
  ],
  [new RegExp(String.raw`^(${KEY})\s*(>|<)\s*(-?\d+)$`), (m) => ({ key: m[1]!, op: m[2] === ">" ? ">" : "<", value: Number(m[3]) })],
];

/** Parses `app=web,tier in (a,b),!legacy`; throws a 400 Status on bad syntax. */
export function parseLabelSelector(text: string | null | undefined): LabelSelector {
  if (text == null || text.trim() === "") return [];
  return splitTopLevel(text).map((part) => {
    const trimmed = part.trim();
    for (const [re, build] of patterns) {
      const m = re.exec(trimmed);
      if (m) return build(m);
    }
    throw badRequest(`unable to parse requirement: ${JSON.stringify(trimmed)}: not a valid label selector requirement`);
  });
}

/** Splits on commas that are not inside `( )`. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const get = (key: string) => labels?.[key];
  return selector.every((r) => {
    const value = get(r.key);
    switch (r.op) {
      case "exists":
        return value !== undefined;
      case "!exists":
        return value === undefined;
      case "=":
        return value === r.value;
      case "!=":
        return value !== r.value;
      case "in":
        return value !== undefined && r.values.includes(value);
      case "notin":
        return value === undefined || !r.values.includes(value);
      case ">":
        return value !== undefined && /^-?\d+$/.test(value) && Number(value) > r.value;
      case "<":
        return value !== undefined && /^-?\d+$/.test(value) && Number(value) < r.value;
    }
  });
}

export interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}

/** Parses `metadata.name=x,status.phase!=Done` (backslash escapes `,`, `=` and `\`). */
export function parseFieldSelector(text: string | null | undefined): FieldRequirement[] {
  if (text == null || text.trim() === "") return [];
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "\\" && i + 1 < text.length) {
      current += ch + text[++i]!;
    } else if (ch === ",") {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((part) => {
    const m = /^([^=!\s]+)\s*(==|=|!=)(.*)$/.exec(part.trim());
    if (!m) throw badRequest(`invalid selector: '${part}'; can't understand '${part}'`);
    return { field: m[1]!, op: m[2] === "!=" ? "!=" : "=", value: m[3]!.replace(/\\(.)/g, "$1") };
  });
}

export function matchesFields(selector: readonly FieldRequirement[], fields: Readonly<Record<string, string>>): boolean {
  return selector.every((r) => ((fields[r.field] ?? "") === r.value) === (r.op === "="));
}
