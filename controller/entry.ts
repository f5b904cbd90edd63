// What an entry point of the binary does: run `controller` with its V8 heap flags, then the command.
import { type CommandEntry, main } from "./cli.ts";
import { CONTROLLER_V8_FLAGS, missingFlags } from "./node-flags.ts";

export async function runBinary(commands: readonly CommandEntry[]): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === "controller" && process.execve !== undefined) {
    // V8 fixes its heap sizes at start-up: running again with the flags is the only way to set them
    // from here. execve keeps the PID and stdio (PID 1 in a container stays PID 1), and runs nothing
    // of this process's shutdown; nothing has started yet.
    const flags = missingFlags(CONTROLLER_V8_FLAGS, process.execArgv, process.env.NODE_OPTIONS);
    if (flags.length > 0) process.execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)]);
  }
  process.exitCode = await main(argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }, commands);
}
