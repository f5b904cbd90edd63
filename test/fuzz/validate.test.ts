// Fuzzes `aegir-operator validate -f -`, run in-process as the CLI tests do: manifests generated
// from the schemas, mutated examples and raw text or bytes. The oracle is the zod schema itself
// on what js-yaml reads from the same text: exit 0 exactly when every document is accepted, and
// every rejection names its field path (or, for unparseable text, the line and column).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as fc from "fast-check";
import * as yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { main } from "../../controller/cli.ts";
import { API_VERSION, KINDS, objectSchema } from "../../crds/kinds.ts";
import { MAX_OBJECT_BYTES, formatPath } from "../../crds/manifests.ts";
import { validServer, validSite } from "../crds/invalid-corpus.ts";
import { captureIO } from "../helpers/io.ts";
import { fuzz, timeLimit, withinTime } from "./budget.ts";
import { type Json, manifest } from "./manifest-arbitraries.ts";
import { TEXT_FRAGMENTS, type PathPart, applyMutation, applyTextEdit, mutation, textEdit } from "./mutate.ts";

const FILE = import.meta.filename;
/** Generous: a run takes milliseconds; quadratic parsing of a few hundred KB takes seconds. */
const RUN_LIMIT_MS = 5_000;

const examplesDir = join(import.meta.dirname, "../../crds/examples");
const exampleTexts = readdirSync(examplesDir)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => readFileSync(join(examplesDir, f), "utf8"));
const baseDocuments: Json[] = [...exampleTexts.flatMap((t) => yaml.loadAll(t) as Json[]), validSite() as Json, validServer() as Json];

interface Run {
  code: number;
  out: string;
  err: string;
}

async function validate(input: string | Uint8Array): Promise<Run> {
  const io = captureIO(input);
  const code = await withinTime("validate", RUN_LIMIT_MS, () => main(["validate", "-f", "-"], io));
  return { code, out: io.out(), err: io.err() };
}

// ---- the oracle ---------------------------------------------------------------------------

const schemas = new Map(KINDS.map((k) => [k.kind, objectSchema(k)]));
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
/** Paths with these cannot be looked for verbatim on one output line. */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\x00-\x1f\x7f\u0085\u2028\u2029]|[\ud800-\udfff]/;

type Verdict =
  | { kind: "unparseable" }
  /** Aliases expanding past what the oracle walks, or a cycle: only the invariants are checked. */
  | { kind: "unknown" }
  | { kind: "parsed"; valid: boolean; paths: string[] };

/** Counts values following shared references; undefined when past `limit` (a cycle never ends). */
function boundedSize(root: unknown, limit: number): number | undefined {
  let count = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    if (++count > limit) return undefined;
    const value = stack.pop();
    if (Array.isArray(value)) for (const v of value) stack.push(v);
    else if (isRecord(value)) for (const v of Object.values(value)) stack.push(v);
  }
  return count;
}

/** What `validate` must conclude about the text: parsed with the same loader, judged by the zod schemas. */
function oracle(text: string): Verdict {
  let documents: unknown[];
  try {
    documents = yaml.loadAll(text, null, { schema: yaml.CORE_SCHEMA });
  } catch {
    return { kind: "unparseable" };
  }
  if (documents.length > 1 && documents.at(-1) == null) documents.pop();
  if (documents.every((d) => d == null)) return { kind: "parsed", valid: false, paths: [] };
  const paths: string[] = [];
  let valid = true;
  let unknown = false;
  const judge = (doc: unknown): void => {
    if (!isRecord(doc)) {
      valid = false;
      return;
    }
    if (boundedSize(doc, 200_000) === undefined) {
      unknown = true;
      return;
    }
    if (doc.apiVersion === "v1" && doc.kind === "List") {
      if (Array.isArray(doc.items)) doc.items.forEach(judge);
      else {
        valid = false;
        paths.push("items");
      }
      return;
    }
    if (JSON.stringify(doc).length > MAX_OBJECT_BYTES) valid = false;
    if (doc.apiVersion !== API_VERSION) {
      valid = false;
      paths.push("apiVersion");
    }
    const schema = typeof doc.kind === "string" ? schemas.get(doc.kind) : undefined;
    if (schema === undefined) {
      valid = false;
      paths.push("kind");
      return;
    }
    const result = schema.safeParse(doc);
    if (result.success) return;
    valid = false;
    for (const issue of result.error.issues) {
      if (issue.path[0] === "apiVersion" || issue.path[0] === "kind") continue;
      if (issue.code === "unrecognized_keys") paths.push(...issue.keys.map((k) => formatPath([...issue.path, k])));
      else paths.push(formatPath(issue.path));
    }
  };
  documents.forEach(judge);
  return unknown ? { kind: "unknown" } : { kind: "parsed", valid, paths };
}

/** Problem lines that name `path` as their field: `-: Kind/name: path: message`. */
const linesNaming = (run: Run, path: string) => run.out.split("\n").filter((l) => l.includes(`: ${path}: `));

/** What holds for every input, whatever it is. */
function checkInvariants(run: Run): void {
  expect([0, 1]).toContain(run.code);
  expect(run.err).toMatch(/^validate: (\d+ objects valid in 1 files|problems found \(\d+ valid objects in 1 files\))\n$/);
  expect(run.err.startsWith("validate: problems found")).toBe(run.code === 1);
  if (run.code === 0) expect(run.out).toBe("");
  else expect(run.out).not.toBe("");
  // One problem per line, each `FILE: object: ...`; a newline inside a message would start a line without it.
  for (const line of run.out.split("\n").slice(0, -1)) expect(line).toMatch(/^-: [^\n]+: .+/);
  expect(run.out.endsWith("\n") || run.out === "").toBe(true);
  expect(run.out).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack traces
}

function checkAgainstOracle(run: Run, text: string): Verdict {
  checkInvariants(run);
  const verdict = oracle(text);
  if (verdict.kind === "unparseable") {
    expect(run.code).toBe(1);
    // Says where: `-: file: line 3, column 7: YAML syntax error: ...`
    expect(run.out).toMatch(/^-: file: line \d+, column \d+: YAML syntax error: .+\n$/);
  } else if (verdict.kind === "parsed") {
    expect(run.code).toBe(verdict.valid ? 0 : 1);
    for (const path of verdict.paths) {
      if (path === "" || UNPRINTABLE.test(path)) continue;
      expect(linesNaming(run, path), `a problem line naming ${path}`).not.toEqual([]);
    }
  }
  return verdict;
}

// ---- serializations -------------------------------------------------------------------------

const style = fc.record({
  format: fc.constantFrom("block", "flow", "json", "list"),
  leadingSeparator: fc.boolean(),
  trailingSeparator: fc.boolean(),
  comment: fc.boolean(),
});
type Style = typeof style extends fc.Arbitrary<infer S> ? S : never;

function dumpOne(doc: Json, format: Style["format"]): string {
  if (format === "json") return `${JSON.stringify(doc)}\n`;
  // noRefs off: a value shared by two fields becomes an anchor and an alias.
  return yaml.dump(doc, { flowLevel: format === "flow" ? 0 : -1, lineWidth: -1 });
}

function serialize(docs: Json[], s: Style): string {
  const body =
    s.format === "list"
      ? [dumpOne({ apiVersion: "v1", kind: "List", items: docs }, "block")]
      : docs.map((d) => dumpOne(d, s.format));
  const text = body.map((b) => (s.comment ? `# fuzzed\n${b}` : b)).join("---\n");
  return `${s.leadingSeparator ? "---\n" : ""}${text}${s.trailingSeparator ? "---\n" : ""}`;
}

// ---- properties -------------------------------------------------------------------------------

describe("fuzz: aegir-operator validate", () => {
  const valid = "accepts every manifest generated from the schemas";
  it(
    valid,
    async () => {
      await fuzz(
        valid,
        FILE,
        60,
        fc.asyncProperty(fc.array(manifest, { minLength: 1, maxLength: 3 }), style, async (docs, s) => {
          for (const doc of docs) {
            const schema = schemas.get(doc.kind as string);
            expect(schema?.safeParse(doc).error?.issues, "the arbitrary made a manifest the schema refuses").toBeUndefined();
          }
          const text = serialize(docs, s);
          const run = await validate(text);
          checkAgainstOracle(run, text);
          expect(run.out).toBe("");
          expect(run.err).toBe(`validate: ${docs.length} objects valid in 1 files\n`);
          expect(run.code).toBe(0);
        }),
      );
    },
    timeLimit(valid, 60),
  );

  const mutated = "judges mutated examples exactly as the schema does and names the field";
  it(
    mutated,
    async () => {
      const base = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...baseDocuments) }, { weight: 1, arbitrary: manifest });
      await fuzz(
        mutated,
        FILE,
        250,
        fc.asyncProperty(
          fc.array(fc.record({ doc: base, mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 2 }),
          style,
          async (files, s) => {
            const touched: PathPart[][] = [];
            const docs = files.map(({ doc, mutations }) => {
              let root = structuredClone(doc);
              for (const m of mutations) {
                const applied = applyMutation(root, m);
                root = applied.root;
                touched.push(applied.path);
              }
              return root;
            });
            const text = serialize(docs, s);
            const run = await validate(text);
            const verdict = checkAgainstOracle(run, text);
            if (verdict.kind === "parsed" && !verdict.valid && verdict.paths.length > 0) {
              // The problems point at (or next to) what was changed: some named path lies under the parent of a touched node.
              const named = (p: string) => p !== "" && !UNPRINTABLE.test(p) && linesNaming(run, p).length > 0;
              const near = touched.some((path) => {
                const parent = formatPath(path.slice(0, -1));
                return verdict.paths.some((p) => p.startsWith(parent) && named(p));
              });
              const printable = verdict.paths.some((p) => p !== "" && !UNPRINTABLE.test(p));
              if (printable) expect(near, `a problem near ${touched.map((p) => formatPath(p)).join(", ")}`).toBe(true);
            }
          },
        ),
      );
    },
    timeLimit(mutated, 250),
  );

  const raw = "never crashes on raw text or bytes, and says where YAML stops parsing";
  it(
    raw,
    async () => {
      const token = fc.oneof(fc.constantFrom(...TEXT_FRAGMENTS), fc.constantFrom("apiVersion", "kind", "HostedSite", "spec", "metadata", "name", "x", "1"));
      const edited = fc
        .record({ text: fc.constantFrom(...exampleTexts), edits: fc.array(textEdit, { minLength: 1, maxLength: 5 }) })
        .map(({ text, edits }) => edits.reduce(applyTextEdit, text));
      const input = fc.oneof(
        { weight: 4, arbitrary: edited },
        { weight: 2, arbitrary: fc.array(token, { maxLength: 60 }).map((t) => t.join("")) },
        { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 400 }) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2_000 }) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            "a: &a [*a]\n", // a cycle: the loader builds self-referencing values
            "&l {apiVersion: v1, kind: List, items: [*l]}\n",
            `a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n`,
            `${"[".repeat(100_000)}${"]".repeat(100_000)}`,
            `${"- ".repeat(5_000)}x\n`,
            "\ufeffapiVersion: v1\n",
            "key: \u0000\n",
          ),
        },
      );
      await fuzz(
        raw,
        FILE,
        250,
        fc.asyncProperty(input, async (data) => {
          const run = await validate(data);
          // The CLI reads UTF-8 (a BOM dropped, invalid bytes replaced): judge the text it decoded.
          checkAgainstOracle(run, new TextDecoder().decode(typeof data === "string" ? Buffer.from(data, "utf8") : data));
        }),
      );
    },
    timeLimit(raw, 250),
  );
});
