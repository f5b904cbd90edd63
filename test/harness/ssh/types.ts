// What a test SSH server does with an exec request: the remote side of a CommandRunner.
import type { Readable, Writable } from "node:stream";

export interface ExecRequest {
  /** The command string exactly as the client sent it (shell-quoted argv). */
  command: string;
  /** The channel's standard input; ends when the client closes its side. */
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Aborted when the client goes away (channel closed, connection dropped). */
  signal: AbortSignal;
  /** The client's TCP port: which process sent the command (chaos tests attribute writes by it). */
  clientPort: number;
}

/**
 * Resolves to the exit status sent back to the client. Rejecting cuts the client's whole
 * connection without an exit status: how a test simulates a network failure mid-command.
 */
export type ExecHandler = (request: ExecRequest) => Promise<number>;
