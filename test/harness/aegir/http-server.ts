// The simulator's HTTP endpoint on 127.0.0.1: POST /exec runs one command for the drush shim,
// GET /state shows the server to anyone on loopback; running commands needs the bearer token.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { quoteArg } from "../../../reconcilers/aegir/shell.ts";
import { ConnectionDropped } from "./result.ts";
import type { AegirSimulator } from "./simulator.ts";

export interface ListenOptions {
  /** 0 (default): any free port. */
  port?: number;
  /** Default: random. */
  token?: string;
}

export interface SimulatorServer {
  url: string;
  port: number;
  token: string;
  /** Environment for the shim (`AEGIR_SIM_URL`, `AEGIR_SIM_TOKEN`). */
  env: Record<string, string>;
  /**
   * Write `drush` (a sh wrapper running the shim with this Node) and its `drush-shim.json`
   * into dir; returns the wrapper's path, to use as the server's drush.
   */
  installShim(dir: string): string;
  close(): Promise<void>;
}

/** What the shim posts and gets back. */
export interface ExecRequestBody {
  argv: string[];
  stdin: string;
}
export type ExecResponseBody = { code: number; stdout: string; stderr: string } | { dropped: true };

const SHIM = fileURLToPath(new URL("./drush-shim.ts", import.meta.url));
const MAX_BODY = 4 * 1024 * 1024;

export async function listen(simulator: AegirSimulator, options: ListenOptions = {}): Promise<SimulatorServer> {
  const token = options.token ?? randomBytes(24).toString("hex");
  const server = createServer((req, res) => {
    handle(simulator, token, req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: String(error) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    token,
    env: { AEGIR_SIM_URL: url, AEGIR_SIM_TOKEN: token },
    installShim(dir) {
      const config = join(dir, "drush-shim.json");
      writeFileSync(config, JSON.stringify({ url, token }), { mode: 0o600 });
      const wrapper = join(dir, "drush");
      writeFileSync(wrapper, `#!/bin/sh\nAEGIR_SIM_CONFIG=${quoteArg(config)} exec ${quoteArg(process.execPath)} ${quoteArg(SHIM)} "$@"\n`);
      chmodSync(wrapper, 0o755);
      return wrapper;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(simulator: AegirSimulator, token: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Reading the state is harmless (and what the sandbox shows people); running commands is not.
  if (req.method === "GET" && req.url === "/state") return send(res, 200, simulator.state());
  if (!authorized(req.headers.authorization, token)) return send(res, 401, { error: "missing or wrong bearer token" });
  if (req.method !== "POST" || req.url !== "/exec") return send(res, 404, { error: "not found" });
  const body = parseBody(await readBody(req));
  if (!body) return send(res, 400, { error: "expected {argv: string[], stdin: string}" });
  // The shim dies with its SSH session: a closed request is a client that went away.
  const controller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort(new Error("the drush shim went away"));
  });
  try {
    const result = await simulator.exec(body.argv, { stdin: body.stdin, signal: controller.signal });
    send(res, 200, result satisfies ExecResponseBody);
  } catch (error) {
    if (error instanceof ConnectionDropped) return send(res, 200, { dropped: true } satisfies ExecResponseBody);
    if (controller.signal.aborted) return;
    throw error;
  }
}

function authorized(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? "");
  const wanted = Buffer.from(`Bearer ${token}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

function parseBody(text: string): ExecRequestBody | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== "object" || value === null) return undefined;
    const { argv, stdin } = value as Record<string, unknown>;
    if (!Array.isArray(argv) || !argv.every((a) => typeof a === "string") || typeof stdin !== "string") return undefined;
    return { argv, stdin };
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) req.destroy(new Error("request body too large"));
      else chunks.push(chunk);
    });
    req.once("error", reject);
    req.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
