import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import * as yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { main } from "../../controller/cli.ts";
import { validServer, validSite } from "../crds/invalid-corpus.ts";
import { captureIO } from "../helpers/io.ts";
import { tempDir } from "../helpers/tmp.ts";

const root = join(import.meta.dirname, "../..");
const run = async (args: string[], stdin = "") => {
  const io = captureIO(stdin);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
};

describe("aegir-operator validate", () => {
  const dir = tempDir();
  const bad = validSite();
  bad.metadata.name = "broken";
  bad.spec.domain = "Acme.example.com";
  bad.spec.features = ["oa_wiki", "oa_wiki"];
  bad.spec.userQuota = 0;
  writeFileSync(join(dir, "mixed.yaml"), `${yaml.dump(validSite())}---\n${yaml.dump(bad)}---\n${yaml.dump(validServer())}`);
  writeFileSync(join(dir, "syntax.yaml"), "apiVersion: hosting.openatria.com/v1alpha1\nkind: HostedSite\nspec:\n  domain: [\n");
  writeFileSync(join(dir, "good.json"), JSON.stringify(validSite()));
  mkdirSync(join(dir, "nested"));
  writeFileSync(join(dir, "nested", "bad.yml"), yaml.dump({ ...validSite(), kind: "Website" }));
  writeFileSync(join(dir, "notes.txt"), "not a manifest");

  it("accepts the shipped examples with exit 0", async () => {
    const r = await run(["validate", "-f", join(root, "crds/examples")]);
    expect(r.out).toBe("");
    expect(r.err).toBe("validate: 9 objects valid in 9 files\n");
    expect(r.code).toBe(0);
  });

  it("prints one line per problem as FILE: Kind/name: path: message and exits 1", async () => {
    const file = join(dir, "mixed.yaml");
    const r = await run(["validate", "-f", file]);
    expect(r.code).toBe(1);
    expect(r.out.trimEnd().split("\n")).toEqual([
      `${file}: HostedSite/broken: spec.domain: must be a lowercase fully qualified domain name (letters a-z, digits, '-', labels of at most 63 characters, no wildcard, no trailing dot)`,
      `${file}: HostedSite/broken: spec.features[1]: duplicate value "oa_wiki"`,
      `${file}: HostedSite/broken: spec.userQuota: must be at least 1`,
    ]);
    expect(r.err).toBe("validate: problems found (2 valid objects in 1 files)\n");
  });

  it("reports a YAML syntax error with its line, not a stack trace", async () => {
    const file = join(dir, "syntax.yaml");
    const r = await run(["validate", "-f", file]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`^${file}: file: line 5, column 1: YAML syntax error: .+\\n$`));
    expect(r.out).not.toMatch(/at .+\.ts:\d+/);
  });

  it("reads the manifest files of a directory, recursing only with -R", async () => {
    const flat = await run(["validate", "-f", dir]);
    expect(flat.out).not.toContain("nested");
    expect(flat.out).not.toContain("notes.txt");
    expect(flat.err).toBe("validate: problems found (3 valid objects in 3 files)\n"); // mixed, syntax, good.json
    const deep = await run(["validate", "-R", "-f", dir]);
    expect(deep.out).toContain(`${join(dir, "nested", "bad.yml")}: Website/acme: kind: unsupported kind "Website"; expected one of HostedSite, AegirServer`);
  });

  it("reads stdin for -f -", async () => {
    const r = await run(["validate", "-f", "-"], yaml.dump(validServer()));
    expect(r.code).toBe(0);
    expect(r.err).toBe("validate: 1 objects valid in 1 files\n");
  });

  it("names a missing file", async () => {
    const r = await run(["validate", "-f", join(dir, "nope.yaml")]);
    expect(r.code).toBe(1);
    expect(r.out).toBe(`${join(dir, "nope.yaml")}: cannot read: no such file or directory\n`);
  });

  it("exits 2 on wrong usage", async () => {
    expect((await run(["validate"])).code).toBe(2);
    expect((await run(["validate", "-f"])).code).toBe(2);
    expect((await run(["validate", "--bogus"])).code).toBe(2);
    expect((await run(["frobnicate"])).code).toBe(2);
    const help = await run(["validate", "--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("usage: aegir-operator validate");
  });

  it("works as the installed binary through npx", async () => {
    const exec = promisify(execFile);
    const ok = await exec("npx", ["--no-install", "aegir-operator", "validate", "-f", "crds/examples"], { cwd: root });
    expect(ok.stderr).toContain("validate: 9 objects valid in 9 files");
    const failed = await exec("npx", ["--no-install", "aegir-operator", "validate", "-f", join(dir, "mixed.yaml")], { cwd: root }).catch(
      (e: { code: number; stdout: string }) => e,
    );
    expect("code" in failed && failed.code).toBe(1);
    expect(failed.stdout).toContain("HostedSite/broken: spec.userQuota: must be at least 1");
  });
});

describe("aegir-operator crds", () => {
  it("prints the committed CRDs", async () => {
    const r = await run(["crds"]);
    expect(r.code).toBe(0);
    const names = yaml.loadAll(r.out).map((d) => (d as { metadata: { name: string } }).metadata.name);
    expect(names).toEqual(["hostedsites.hosting.openatria.com", "aegirservers.hosting.openatria.com", "hostedspaces.hosting.openatria.com", "hostedsiterestores.hosting.openatria.com", "sitepools.hosting.openatria.com", "platformrollouts.hosting.openatria.com"]);
  });

  it("refuses arguments", async () => {
    expect((await run(["crds", "extra"])).code).toBe(2);
  });
});

describe("aegir-operator help", () => {
  it("lists the commands", async () => {
    const r = await run(["help"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/validate\s+validate HostedSite/);
    expect(r.out).toMatch(/crds\s+print the CustomResourceDefinitions/);
  });
});
