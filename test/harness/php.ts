// PHP itself (php-cli) for the tests that run the driver's php-eval scripts: CI installs it; where
// it is absent those tests skip, saying what to install.
import { execFileSync, spawnSync } from "node:child_process";

/** Whether `php` runs; if not, warns that `suite` is skipped. */
export function phpPresent(suite: string): boolean {
  try {
    execFileSync("php", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    console.warn(`skipping ${suite}: install php-cli (apt-get install php-cli)`);
    return false;
  }
}

/**
 * Runs a php-eval script as drush would: `prelude` (stand-ins for what Drupal or the hostmaster
 * provides, and the state) first, the script as a function body (its own `return` ends it early on
 * an error), then `epilogue`; the input on stdin. `disable`: PHP functions removed, so the prelude
 * can define stand-ins of its own for them (PHP 8 treats a disabled function as undefined), e.g. exec.
 */
export function runPhpScript(script: string, input: unknown, prelude: string, epilogue = "", disable: readonly string[] = []): { stdout: string; stderr: string } {
  const program = `${prelude}\nfunction _script() {\n${script}\n}\n_script();\n${epilogue}`;
  const ini = disable.length === 0 ? [] : ["-d", `disable_functions=${disable.join(",")}`];
  const run = spawnSync("php", ["-d", "display_errors=stderr", ...ini, "-r", program], { input: JSON.stringify(input), encoding: "utf8" });
  return { stdout: run.stdout, stderr: run.stderr };
}
