// The shape every CLI subcommand has; streams are passed in so tests run commands in-process.
import type { Readable, Writable } from "node:stream";

export interface CommandIO {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
}

export interface Command {
  name: string;
  usage: string;
  /** Resolves to the process exit code. */
  run(argv: readonly string[], io: CommandIO): Promise<number>;
}

/** Exit code for a wrong invocation (bad flags), as distinct from invalid input (1). */
export const USAGE_ERROR = 2;
