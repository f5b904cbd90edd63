// The image (Dockerfile) holds the production sources and production dependencies only. No
// container engine runs here, so the image is checked the way it would break: every module the
// production commands can load must be among the directories it copies, and every package they
// import must be a production dependency (npm ci --omit=dev drops the rest).
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { helpText } from "../../controller/cli.ts";
import { DEV_COMMANDS } from "../harness/dev-commands.ts";

const ROOT = join(import.meta.dirname, "../..");
const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { bin: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };

/** Static and dynamic imports of a module (string literals only, which is all this project uses). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  // `import type` is erased at run time.
  const statements = [...text.matchAll(/^(?:import|export)\s(?!type\s)[^;]*?from\s+"([^"]+)"/gms)];
  return [...statements, ...text.matchAll(/import\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]!);
}

function walk(): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [join(ROOT, "controller/bin.ts")];
  while (pending.length > 0) {
    const file = pending.pop()!;
    const rel = relative(ROOT, file);
    if (files.has(rel)) continue;
    files.add(rel);
    for (const spec of importsOf(file)) {
      if (spec.startsWith(".")) pending.push(resolve(dirname(file), spec));
      else if (!spec.startsWith("node:") && !builtinModules.includes(spec)) packages.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);
    }
  }
  return { files, packages };
}

describe("Dockerfile", () => {
  const copied = [...dockerfile.matchAll(/^COPY (?!--from)(\S+) \.\/\S*$/gm)].map((m) => m[1]!).filter((p) => !p.startsWith("package"));
  const { files, packages } = walk();

  it("is multi-stage on Node 24, installs production dependencies only and runs as a non-root user", () => {
    expect(dockerfile.match(/^FROM node:24\S*/gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "controller\/bin\.ts"\]$/m);
  });

  it("copies every module the production commands load", () => {
    expect(files.size).toBeGreaterThan(50);
    expect(files).toContain("webhook/service.ts");
    const outside = [...files].filter((f) => !copied.some((dir) => f.startsWith(`${dir}/`)));
    expect(outside).toEqual([]);
    for (const f of files) expect(existsSync(join(ROOT, f)), f).toBe(true);
  });

  it("lists in its help only commands it can run; a checkout's entry adds the sandbox", () => {
    expect(helpText()).not.toMatch(/^ {2}sandbox /m);
    expect(helpText(DEV_COMMANDS)).toMatch(/^ {2}sandbox /m);
    expect(pkg.bin["aegir-operator"]).toBe("test/harness/bin.ts");
  });

  it("needs no development dependency at run time", () => {
    expect(packages).toContain("@kubernetes/client-node");
    expect([...packages].filter((p) => pkg.dependencies[p] === undefined)).toEqual([]);
  });

  it("leaves out what production does not need", () => {
    expect(readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n")).toEqual(expect.arrayContaining(["test", "node_modules", ".git"]));
  });
});
