// The simulator behind a test SSH server: parse the exec request's command string as the
// remote shell would, feed stdin, write stdout/stderr, return the exit status.
import type { Readable } from "node:stream";
import { splitCommandLine } from "../../../reconcilers/aegir/shell.ts";
import type { ExecHandler } from "../ssh/types.ts";
import type { AegirSimulator } from "./simulator.ts";

/** Exit status of a command whose session was hung up on (128 + SIGHUP). */
const HUNG_UP = 129;

/**
 * Rejects with ConnectionDropped for an injected drop: the SSH server should then cut the
 * connection without sending an exit status.
 */
export function createExecHandler(simulator: AegirSimulator): ExecHandler {
  return async ({ command, stdin, stdout, stderr, signal, clientPort }) => {
    let argv: string[];
    try {
      argv = splitCommandLine(command);
    } catch (error) {
      // This simulated shell runs one plain command; anything else is refused.
      stderr.write(`sh: 1: ${(error as Error).message}\n`);
      return 127;
    }
    if (argv.length === 0) {
      stderr.write("sh: 1: empty command\n");
      return 127;
    }
    try {
      const result = await simulator.exec(argv, { stdin: () => readAll(stdin, signal), signal, clientPort });
      stdout.write(result.stdout);
      stderr.write(result.stderr);
      return result.code;
    } catch (error) {
      if (signal.aborted) return HUNG_UP;
      throw error;
    }
  };
}

function readAll(stream: Readable, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    stream.on("data", (chunk: Buffer | string) => chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk));
    stream.once("error", reject);
    stream.once("end", () => {
      signal.removeEventListener("abort", onAbort);
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}
