// The controller's own V8 heap flags are added only where the operator has not set them.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONTROLLER_V8_FLAGS, missingFlags } from "../../controller/node-flags.ts";

describe("missingFlags", () => {
  it("adds every flag to a plain start, none once they are all there", () => {
    expect(missingFlags(CONTROLLER_V8_FLAGS, [], undefined)).toEqual(CONTROLLER_V8_FLAGS);
    expect(missingFlags(CONTROLLER_V8_FLAGS, [...CONTROLLER_V8_FLAGS, "--inspect"], undefined)).toEqual([]);
  });

  it("leaves a flag the operator set, on the command line (either spelling) or in NODE_OPTIONS", () => {
    expect(missingFlags(["--max-semi-space-size=16", "--heap-growing-percent=50"], ["--max_semi_space_size=64"], undefined)).toEqual(["--heap-growing-percent=50"]);
    expect(missingFlags(["--max-semi-space-size=16", "--heap-growing-percent=50"], [], "--max-semi-space-size=8  --enable-source-maps")).toEqual(["--heap-growing-percent=50"]);
  });
});

describe("bin.ts", () => {
  it.skipIf(process.execve === undefined)("runs the controller command with the flags (same process), and other commands without", () => {
    const root = join(import.meta.dirname, "../..");
    // --import runs in every process image, so it reports the flags the controller finally ran with.
    const probe = "data:text/javascript,process.on('exit',()=>process.stderr.write('EXECARGV '+JSON.stringify(process.execArgv)+'\\n'))";
    const run = (command: string) => spawnSync(process.execPath, [`--import=${probe}`, "controller/bin.ts", command, "--help"], { cwd: root, encoding: "utf8" });
    const controller = run("controller");
    expect(controller.status).toBe(0);
    // One report: the first image was replaced (execve), not exited.
    const reports = controller.stderr.trim().split("\n").filter((l) => l.startsWith("EXECARGV "));
    expect(reports).toHaveLength(1);
    expect(JSON.parse(reports[0]!.slice("EXECARGV ".length))).toEqual(expect.arrayContaining([...CONTROLLER_V8_FLAGS]));
    const validate = run("validate");
    expect(validate.stderr).not.toContain("max-semi-space-size");
  });
});
