// The php-eval scripts never run against a real Drupal here, but PHP itself can at least parse
// them: a syntax error would otherwise first show on a production Aegir server.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CONFORMANCE_SCRIPTS } from "../../reconcilers/aegir/conformance/scripts.ts";
import { ENFORCE_QUOTA_PHP } from "../../reconcilers/aegir/quota.ts";
import { SCRIPTS } from "../../reconcilers/aegir/scripts.ts";
import { SPACE_MODULE_INSTALL_FILE, SPACE_MODULE_PHP } from "../../reconcilers/aegir/space-scripts.ts";
import { phpPresent } from "../harness/php.ts";

const php = phpPresent("PHP syntax checks");

describe.skipIf(!php)("php-eval scripts", () => {
  it.each(Object.entries({ ...SCRIPTS, ...CONFORMANCE_SCRIPTS, "enforce-quota": ENFORCE_QUOTA_PHP }))("%s parses as PHP", (_name, code) => {
    // drush php-eval runs the code through eval(): check it as the body of a PHP file.
    const result = spawnSync("php", ["-l"], { input: `<?php\n${code}\n`, encoding: "utf8" });
    expect(result.stdout + result.stderr).toContain("No syntax errors detected");
    expect(result.status).toBe(0);
  });

  it.each([
    ["module", SPACE_MODULE_PHP],
    ["install", SPACE_MODULE_INSTALL_FILE],
  ])("the space quota module's .%s file parses as PHP", (_file, source) => {
    const result = spawnSync("php", ["-l"], { input: source, encoding: "utf8" });
    expect(result.stdout + result.stderr).toContain("No syntax errors detected");
  });
});
