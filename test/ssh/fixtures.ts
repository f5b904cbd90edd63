// Shared set-up for the SSH transport tests: a test server whose handler understands a few
// commands, a client key, and a pool pointed at the server.
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { splitCommandLine } from "../../reconcilers/aegir/shell.ts";
import { SshPool, type SshPoolOptions } from "../../reconcilers/aegir/ssh/pool.ts";
import { generateKeyPair, type KeyPair } from "../harness/ssh/keys.ts";
import { startTestSshServer, type TestSshServer, type TestSshServerOptions } from "../harness/ssh/server.ts";
import type { ExecHandler } from "../harness/ssh/types.ts";

export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * `args A B...` prints the argv it received as JSON; `cat CODE` copies stdin to stdout, writes
 * `oops` to stderr and exits with CODE; `sleep MS` waits; `hold` waits until the client goes;
 * `drop` rejects, which cuts the connection.
 */
export const handler: ExecHandler = async ({ command, stdin, stdout, stderr, signal }) => {
  const [name, ...args] = splitCommandLine(command);
  switch (name) {
    case "args":
      stdout.write(JSON.stringify(args));
      return 0;
    case "cat":
      stdout.write(await readAll(stdin));
      stderr.write("oops\n");
      return Number(args[0] ?? 0);
    case "sleep":
      await sleep(Number(args[0]), undefined, { signal });
      return 0;
    case "hold":
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      return 0;
    case "drop":
      throw new Error("simulated network failure");
    default:
      stderr.write(`${name}: command not found\n`);
      return 127;
  }
};

export interface Fixture {
  server: TestSshServer;
  key: KeyPair;
  pool: (options?: Partial<SshPoolOptions>) => SshPool;
  /** Closes the pools made by `pool`, then the server. */
  cleanup: () => Promise<void>;
}

export async function fixture(serverOptions: Partial<TestSshServerOptions> = {}): Promise<Fixture> {
  const key = generateKeyPair();
  const server = await startTestSshServer({ handler, authorizedKey: key.publicKey, username: "aegir", ...serverOptions });
  const pools: SshPool[] = [];
  return {
    server,
    key,
    pool: (options = {}) => {
      const pool = new SshPool({
        host: server.host,
        port: server.port,
        username: "aegir",
        hostKeySHA256: server.fingerprint,
        privateKey: { secretRef: { namespace: "aegir", name: "ssh", key: "ssh-privatekey" }, read: () => Promise.resolve(key.privateKey) },
        ...options,
      });
      pools.push(pool);
      return pool;
    },
    cleanup: async () => {
      await Promise.all(pools.map((p) => p.close(0)));
      await server.close();
    },
  };
}

/** Polls until `check` holds, failing after `ms`. */
export async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(5);
  }
}
