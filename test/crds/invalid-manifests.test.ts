import { describe, expect, it } from "vitest";
import { validateManifestText } from "../../crds/manifests.ts";
import { KINDS } from "../../crds/kinds.ts";
import { crdFor } from "../../crds/generate.ts";
import { type Schema, validateAgainstSchema } from "../harness/kube/openapi.ts";
import { INVALID_CASES, caseObject, caseText, tenMegabyteManifest, validServer, validSite } from "./invalid-corpus.ts";
import * as yaml from "js-yaml";

/** The openAPIV3Schema of each kind's generated CRD. */
const crdSchemas = new Map(
  KINDS.map((k) => {
    const versions = (crdFor(k).spec as { versions: Array<{ schema: { openAPIV3Schema: Schema } }> }).versions;
    return [k.kind, versions[0]!.schema.openAPIV3Schema] as const;
  }),
);

/** What the API server would say about the object (CEL rules aside). */
function crdErrors(object: Record<string, unknown>) {
  const schema = crdSchemas.get(object.kind as string);
  if (!schema) throw new Error(`no CRD for ${String(object.kind)}`);
  return validateAgainstSchema(object, schema);
}

describe("invalid manifest corpus", () => {
  it("has at least 60 cases with distinct names", () => {
    expect(INVALID_CASES.length).toBeGreaterThanOrEqual(60);
    expect(new Set(INVALID_CASES.map((c) => c.name)).size).toBe(INVALID_CASES.length);
  });

  it("starts from valid manifests", () => {
    for (const m of [validSite(), validServer()]) {
      expect(validateManifestText(yaml.dump(m)).problems).toEqual([]);
      expect(crdErrors(m)).toEqual([]);
    }
  });

  it.each(INVALID_CASES.map((c) => [c.name, c] as const))("rejects %s, naming the field", (_name, c) => {
    const report = validateManifestText(caseText(c));
    expect(report.valid).toHaveLength(c.validDocuments ?? 0);
    expect(report.problems.length).toBeGreaterThan(0);
    expect(report.problems.map((p) => p.path)).toContain(c.field);
    for (const p of report.problems) {
      expect(p.message).not.toBe("");
      expect(p.message).not.toMatch(/\n/);
    }
  });

  it.each(INVALID_CASES.filter((c) => !c.cliOnly && c.text === undefined).map((c) => [c.name, c] as const))(
    "the CRD schema rejects %s too",
    (_name, c) => {
      const errors = crdErrors(caseObject(c));
      expect(errors.map((e) => e.field)).toContain(c.field);
    },
  );

  it("rejects a 10 MB document, naming the field, without a stack trace", () => {
    const text = tenMegabyteManifest();
    expect(text.length).toBeGreaterThan(10_000_000);
    const report = validateManifestText(text);
    expect(report.valid).toEqual([]);
    expect(report.problems).toContainEqual({ object: "HostedSite/acme", path: "spec.features", message: "must have at most 64 items" });
    expect(report.problems.some((p) => p.message.includes("the Kubernetes API accepts at most"))).toBe(true);
  });

  it("reports a YAML syntax error with its line", () => {
    const report = validateManifestText("apiVersion: v1\nkind: HostedSite\nspec:\n  domain: [a\n  b: c\n");
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]?.message).toMatch(/^line \d+, column \d+: YAML syntax error: /);
  });

  it("stops YAML alias bombs before walking them", () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) lines.push(`${"abcdefghij"[i]}: &${"abcdefghij"[i]} [${Array(10).fill(`*${"abcdefghij"[i - 1]}`).join(",")}]`);
    const report = validateManifestText(`${lines.join("\n")}\n`);
    expect(report.problems[0]?.message).toMatch(/too complex/);
  });

  it("does not overflow the stack on deeply nested input", () => {
    const report = validateManifestText(`${"[".repeat(100_000)}${"]".repeat(100_000)}`);
    expect(report.problems).toHaveLength(1);
  });
});
