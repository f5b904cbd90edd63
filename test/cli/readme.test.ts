// The README's configuration reference lists every option the commands accept, so it cannot
// drift from the code.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONTROLLER_OPTIONS } from "../../controller/cli/controller.ts";
import { WEBHOOK_OPTIONS } from "../../webhook/config.ts";

const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");

describe("README configuration reference", () => {
  for (const [command, options] of [
    ["controller", CONTROLLER_OPTIONS],
    ["webhook", WEBHOOK_OPTIONS],
  ] as const) {
    it(`lists every ${command} option with its flag and environment variable`, () => {
      const missing = Object.values(options)
        .map((o: { flag: string; env: string }) => `| \`--${o.flag}\` | \`${o.env}\` |`)
        .filter((row) => !readme.includes(row));
      expect(missing).toEqual([]);
    });
  }
});
