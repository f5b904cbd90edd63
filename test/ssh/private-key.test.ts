// Where the client key comes from (file, Kubernetes Secret) and that it never reaches a log.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { inspect } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { createLogger } from "../../common/logger.ts";
import { AegirError } from "../../reconcilers/aegir/errors.ts";
import { readSecretKey } from "../../reconcilers/aegir/ssh/kube-secret.ts";
import { generateKeyPair } from "../harness/ssh/keys.ts";
import { fixture, until, type Fixture } from "./fixtures.ts";

let current: Fixture | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

/** A minimal API server holding one Secret, aegir/aegir-ssh. */
async function secretApi(data: Record<string, string>): Promise<{ kc: KubeConfig; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.setHeader("content-type", "application/json");
    if (req.url === "/api/v1/namespaces/aegir/secrets/aegir-ssh") {
      res.end(JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "aegir-ssh", namespace: "aegir" }, type: "kubernetes.io/ssh-auth", data }));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ apiVersion: "v1", kind: "Status", status: "Failure", reason: "NotFound", code: 404 }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "test", server: `http://127.0.0.1:${address.port}`, skipTLSVerify: true }],
    users: [{ name: "test", token: "t" }],
    contexts: [{ name: "test", cluster: "test", user: "test" }],
    currentContext: "test",
  });
  return { kc, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("readSecretKey", () => {
  it("reads and decodes one key of a Secret", async () => {
    const api = await secretApi({ "ssh-privatekey": Buffer.from("KEY TEXT\n").toString("base64") });
    try {
      const read = readSecretKey(api.kc);
      expect(await read("aegir", "aegir-ssh", "ssh-privatekey")).toBe("KEY TEXT\n");
      await expect(read("aegir", "aegir-ssh", "other")).rejects.toThrow("secret aegir/aegir-ssh has no key other");
      await expect(read("aegir", "missing", "ssh-privatekey")).rejects.toThrow();
      expect(api.requests).toContain("GET /api/v1/namespaces/aegir/secrets/aegir-ssh");
    } finally {
      await api.close();
    }
  });

  it("feeds the pool, which reads the Secret at connect time", async () => {
    current = await fixture();
    const api = await secretApi({ "ssh-privatekey": Buffer.from(current.key.privateKey).toString("base64") });
    try {
      const pool = current.pool({ privateKey: { secretRef: { namespace: "aegir", name: "aegir-ssh", key: "ssh-privatekey" }, read: readSecretKey(api.kc) } });
      expect((await pool.run(["args", "ok"])).stdout).toBe('["ok"]');
      expect(api.requests.filter((r) => r.includes("/secrets/"))).toHaveLength(1);
    } finally {
      await api.close();
    }
  });
});

describe("private key secrecy", () => {
  it("never logs the key or its passphrase, on success or failure", async () => {
    const passphrase = "correct horse battery staple";
    const key = generateKeyPair({ passphrase });
    const stranger = generateKeyPair({ passphrase });
    current = await fixture({ authorizedKey: key.publicKey });
    const { server, pool } = current;
    const dir = mkdtempSync(join(tmpdir(), "aegir-key-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "id_ed25519"), key.privateKey, { mode: 0o600 });

    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ name: "controller", level: "trace", destination });
    const errors: unknown[] = [];
    const collect = (promise: Promise<unknown>) => promise.catch((error: unknown) => errors.push(error));

    const good = pool({ logger, privateKey: { file: join(dir, "id_ed25519"), passphrase } });
    expect((await good.run(["args", "ok"])).stdout).toBe('["ok"]');
    const holding = collect(good.run(["hold"]));
    await until(() => server.stats.activeExecs === 1);
    server.dropConnections();
    await holding;
    await collect(pool({ logger, privateKey: { file: join(dir, "id_ed25519"), passphrase: "wrong" } }).run(["args"]));
    await collect(pool({ logger, privateKey: { secretRef: { namespace: "a", name: "b", key: "c" }, read: () => Promise.resolve(stranger.privateKey), passphrase } }).run(["args"]));
    await collect(pool({ logger, privateKey: { secretRef: { namespace: "a", name: "b", key: "c" }, read: () => Promise.resolve(key.privateKey) } }).run(["args"]));
    await collect(pool({ logger, hostKeySHA256: stranger.fingerprint, privateKey: { file: join(dir, "id_ed25519"), passphrase } }).run(["args"]));

    expect(errors.map((e) => (e instanceof AegirError ? e.reason : String(e)))).toEqual([
      "ConnectionLost",
      "AuthenticationFailed",
      "AuthenticationFailed",
      "AuthenticationFailed",
      "HostKeyMismatch",
    ]);
    const logged = lines.join("");
    for (const message of ["ssh connected", "ssh connect failed", "ssh connection lost"]) expect(logged).toContain(message);
    // Everything a caller could print: log lines and the errors with their causes.
    const printable = [logged, ...errors.map((e) => inspect(e, { depth: 10 }))].join("\n");
    const keyLines = [key, stranger].flatMap((k) => k.privateKey.split("\n")).filter((l) => l.length > 16 && !l.startsWith("-----"));
    expect(keyLines.length).toBeGreaterThan(4);
    for (const secret of [passphrase, ...keyLines]) expect(printable).not.toContain(secret);
  });
});
