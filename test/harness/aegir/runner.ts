// The simulator as a CommandRunner, for fast in-process driver tests.
import { AegirError } from "../../../reconcilers/aegir/errors.ts";
import type { CommandResult, CommandRunner, RunOptions } from "../../../reconcilers/aegir/runner.ts";
import { ConnectionDropped } from "./result.ts";
import type { AegirSimulator } from "./simulator.ts";

export function createRunner(simulator: AegirSimulator): CommandRunner {
  return {
    async run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
      const command = argv[2] ?? "drush";
      const controller = new AbortController();
      const timeoutMs = options.timeoutMs;
      const cancel =
        timeoutMs === undefined
          ? () => {}
          : simulator.clock.schedule(() => controller.abort(new AegirError("CommandTimeout", `drush ${command} did not finish within ${timeoutMs} ms`, { command })), timeoutMs);
      try {
        const result = await simulator.exec(argv, { ...(options.stdin === undefined ? {} : { stdin: options.stdin }), signal: controller.signal });
        return { code: result.code, signal: null, stdout: result.stdout, stderr: result.stderr };
      } catch (error) {
        if (error instanceof ConnectionDropped) throw new AegirError("ConnectionLost", error.message, { command, cause: error });
        throw error;
      } finally {
        cancel();
      }
    },
  };
}
