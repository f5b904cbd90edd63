import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { allCrdsYaml, crdFileName, crdFor, crdYaml } from "../../crds/generate.ts";
import { KINDS } from "../../crds/kinds.ts";
import { type Schema, validateAgainstSchema } from "../harness/kube/openapi.ts";

const crdsDir = join(import.meta.dirname, "../../crds");
/** Helm installs the chart's crds/ untemplated: `npm run crds` writes identical copies there. */
const chartCrdsDir = join(import.meta.dirname, "../../charts/aegir-operator/crds");

type Node = Schema & { [key: string]: unknown };

/** Every schema node with its path, depth first. */
function* walk(node: Node, path: string): Generator<[string, Node]> {
  yield [path, node];
  for (const [k, v] of Object.entries(node.properties ?? {})) yield* walk(v, `${path}.${k}`);
  if (node.items) yield* walk(node.items, `${path}[]`);
  if (typeof node.additionalProperties === "object") yield* walk(node.additionalProperties, `${path}{}`);
}

const ALLOWED_KEYS = new Set([
  "type", "description", "properties", "required", "items", "additionalProperties", "enum", "pattern", "format",
  "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "default",
  "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-validations",
]);

describe.each(KINDS.map((k) => [k.kind, k] as const))("%s CRD", (_kind, def) => {
  const crd = crdFor(def) as { spec: { versions: Array<{ schema: { openAPIV3Schema: Node }; additionalPrinterColumns: Array<{ jsonPath: string }> }> } };
  const version = crd.spec.versions[0]!;
  const root = version.schema.openAPIV3Schema;

  it("is committed exactly as the schemas generate it (run `npm run crds` after changing crds/*.ts)", () => {
    const committed = readFileSync(join(crdsDir, crdFileName(def)), "utf8");
    expect(committed).toBe(crdYaml(def));
  });

  it("is copied byte for byte into the Helm chart's crds/ (run `npm run crds`)", () => {
    expect(readFileSync(join(chartCrdsDir, crdFileName(def)))).toEqual(readFileSync(join(crdsDir, crdFileName(def))));
  });

  it("is a structural schema the API server accepts", () => {
    for (const [path, node] of walk(root, "")) {
      expect(node.type, `${path} needs a type`).toMatch(/^(object|array|string|integer|number|boolean)$/);
      for (const key of Object.keys(node)) expect(ALLOWED_KEYS.has(key), `${path}: keyword ${key}`).toBe(true);
      expect(node.properties !== undefined && node.additionalProperties !== undefined, `${path}: properties with additionalProperties`).toBe(false);
      if (node.type === "array") expect(node.items, `${path} needs items`).toBeDefined();
      for (const name of node.required ?? []) expect(node.properties?.[name], `${path}: required ${name} is declared`).toBeDefined();
      if (node["x-kubernetes-list-type"] === "set") expect(["string", "integer", "number", "boolean"]).toContain(node.items?.type);
      for (const key of node["x-kubernetes-list-map-keys"] ?? []) {
        expect(node.items?.required, `${path}: list-map key ${key} must be required`).toContain(key);
      }
      if (node.default !== undefined) expect(validateAgainstSchema(node.default, node, path), `${path}: default`).toEqual([]);
    }
  });

  it("uses only RE2-compatible patterns, bounded strings and bounded lists (CEL cost)", () => {
    for (const [path, node] of walk(root, "")) {
      if (node.pattern) expect(node.pattern, path).not.toMatch(/\(\?[=!<]|\\[1-9]|\\[pPk]/);
      if (node.type === "array" && path.startsWith(".spec")) expect(node.maxItems, `${path} maxItems`).toBeDefined();
      if (node.type === "string" && path.startsWith(".spec") && !node.enum) expect(node.maxLength, `${path} maxLength`).toBeDefined();
    }
  });

  it("has printer columns that point at declared fields", () => {
    for (const { jsonPath } of version.additionalPrinterColumns) {
      if (jsonPath === ".metadata.creationTimestamp") continue;
      const fields = jsonPath.replace(/\[\?\(@\.type=="\w+"\)\]/, "[]").split(".").slice(1);
      let node: Node | undefined = root;
      for (const field of fields) {
        node = field.endsWith("[]") ? (node?.properties?.[field.slice(0, -2)]?.items) : (node?.properties?.[field]);
      }
      expect(node, jsonPath).toBeDefined();
    }
  });
});

describe("HostedSite CRD names", () => {
  it("has the short name hs, a category, the status subresource and the printer columns", () => {
    const doc = yaml.load(readFileSync(join(crdsDir, "hosting.openatria.com_hostedsites.yaml"), "utf8")) as {
      spec: { names: { shortNames: string[]; categories: string[] }; versions: Array<{ subresources: unknown; additionalPrinterColumns: Array<{ name: string }> }> };
    };
    expect(doc.spec.names.shortNames).toEqual(["hs"]);
    expect(doc.spec.names.categories).toEqual(["aegir"]);
    expect(doc.spec.versions[0]?.subresources).toEqual({ status: {} });
    expect(doc.spec.versions[0]?.additionalPrinterColumns.map((c) => c.name)).toEqual(["Domain", "Profile", "Tier", "Ready", "Reason", "Cancels", "Age"]);
  });

  it("the chart's crds/ holds exactly the generated CRDs, nothing stale", () => {
    expect(readdirSync(chartCrdsDir).sort()).toEqual(KINDS.map(crdFileName).sort());
  });

  it("joins all CRDs into one multi-document stream", () => {
    const docs = yaml.loadAll(allCrdsYaml());
    expect(docs.map((d) => (d as { metadata: { name: string } }).metadata.name)).toEqual([
      "hostedsites.hosting.openatria.com",
      "aegirservers.hosting.openatria.com",
      "hostedspaces.hosting.openatria.com",
      "hostedsiterestores.hosting.openatria.com",
      "sitepools.hosting.openatria.com",
      "platformrollouts.hosting.openatria.com",
    ]);
  });
});
