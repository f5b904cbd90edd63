// In-memory stdin/stdout/stderr for running CLI commands in-process.
import { PassThrough, Readable } from "node:stream";
import type { CommandIO } from "../../controller/cli/command.ts";

export interface CapturedIO extends CommandIO {
  out(): string;
  err(): string;
}

export function captureIO(stdinText: string | Uint8Array = ""): CapturedIO {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  stdout.on("data", (c: Buffer) => chunks.out.push(c));
  stderr.on("data", (c: Buffer) => chunks.err.push(c));
  return {
    stdout,
    stderr,
    // Bytes, as a process's stdin gives them.
    stdin: Readable.from([typeof stdinText === "string" ? Buffer.from(stdinText, "utf8") : Buffer.from(stdinText)]),
    out: () => Buffer.concat(chunks.out).toString("utf8"),
    err: () => Buffer.concat(chunks.err).toString("utf8"),
  };
}
