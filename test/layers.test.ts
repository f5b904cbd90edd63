// The layers: the image ships common, crds, reconcilers, controller and webhook but not test/, so
// product code must never import test/; reconcilers are the domain and reach the runtime only
// through the small interfaces in common/; common/ and crds/ are leaves.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const PRODUCT = ["common", "controller", "crds", "reconcilers", "webhook"];

/** Top-level folders each layer must not import from. */
const FORBIDDEN: Record<string, readonly string[]> = {
  common: ["controller", "reconcilers", "webhook", "test"],
  crds: ["common", "controller", "reconcilers", "webhook", "test"],
  reconcilers: ["controller", "webhook", "test"],
  controller: ["test"],
  webhook: ["test"],
};

/**
 * Every module specifier in a source file: static imports and re-exports, side-effect imports and
 * dynamic import() calls. A dynamic import of anything but a string literal is reported as-is,
 * since it could reach anywhere.
 */
export function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found: string[] = [];
  for (const m of code.matchAll(/\b(?:import|export)\s[^"'`;]*?\bfrom\s*["']([^"']+)["']/g)) found.push(m[1]!);
  for (const m of code.matchAll(/\bimport\s*["']([^"']+)["']/g)) found.push(m[1]!);
  for (const m of code.matchAll(/\bimport\s*\(\s*([^)]*?)\s*[,)]/g)) {
    const literal = /^["']([^"']+)["']$/.exec(m[1]!);
    found.push(literal ? literal[1]! : `<non-literal: ${m[1]}>`);
  }
  return found;
}

/** `layer/file.ts: specifier` for every import that crosses a forbidden boundary. */
export function violations(file: string, source: string): string[] {
  const layer = file.split("/")[0]!;
  const forbidden = FORBIDDEN[layer] ?? [];
  return importSpecifiers(source).flatMap((specifier) => {
    if (specifier.startsWith("<non-literal")) return [`${file}: ${specifier}`];
    if (!specifier.startsWith(".")) return [];
    const target = relative(ROOT, resolve(ROOT, dirname(file), specifier)).split("/")[0]!;
    return forbidden.includes(target) ? [`${file}: ${specifier}`] : [];
  });
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f));
}

describe("layers", () => {
  it("finds static, re-exported, side-effect and dynamic imports", () => {
    const source = `import { a } from "./a.ts";
import type { B } from '../b.ts';
export { c } from "./c.ts";
import "./d.ts";
// import { commented } from "./e.ts";
const f = await import("../f.ts");
const g = await import(name);`;
    expect(importSpecifiers(source)).toEqual(["./a.ts", "../b.ts", "./c.ts", "./d.ts", "../f.ts", "<non-literal: name>"]);
  });

  it("reports product code reaching into test/ and reconcilers reaching into controller/", () => {
    expect(violations("controller/cli/sandbox.ts", `const { startSandbox } = await import("../../test/harness/sandbox.ts");`)).toEqual([
      "controller/cli/sandbox.ts: ../../test/harness/sandbox.ts",
    ]);
    expect(violations("reconcilers/hostedsite/reconciler.ts", `import type { Logger } from "../../controller/logger.ts";`)).toHaveLength(1);
    expect(violations("reconcilers/hostedsite/reconciler.ts", `import type { Logger } from "../../common/logger.ts";`)).toEqual([]);
    expect(violations("webhook/relay.ts", `import { x } from "../controller/kube/stores.ts";`)).toEqual([]);
  });

  it("holds for every product source file", () => {
    const found = PRODUCT.flatMap(sources).flatMap((file) => violations(file, readFileSync(join(ROOT, file), "utf8")));
    expect(found).toEqual([]);
  });
});
