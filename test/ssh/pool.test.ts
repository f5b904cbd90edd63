// The SSH pool against the in-process ssh2 test server.
import { afterEach, describe, expect, it } from "vitest";
import { AegirError } from "../../reconcilers/aegir/errors.ts";
import type { PoolMetrics } from "../../reconcilers/aegir/ssh/pool.ts";
import { SshPool } from "../../reconcilers/aegir/ssh/pool.ts";
import { generateKeyPair } from "../harness/ssh/keys.ts";
import { freePort } from "../harness/ssh/ports.ts";
import { fixture, until, type Fixture } from "./fixtures.ts";

let current: Fixture | undefined;
async function setup(...args: Parameters<typeof fixture>): Promise<Fixture> {
  current = await fixture(...args);
  return current;
}
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

async function rejection(promise: Promise<unknown>): Promise<AegirError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof AegirError)) throw new Error(`expected an AegirError, got ${String(error)}`);
  return error;
}

describe("SshPool commands", () => {
  it("sends stdin, returns stdout, stderr and the exit code", async () => {
    const { pool } = await setup();
    const result = await pool().run(["cat", "3"], { stdin: '{"site":"é.example.com"}\n' });
    expect(result).toEqual({ code: 3, signal: null, stdout: '{"site":"é.example.com"}\n', stderr: "oops\n" });
  });

  it("passes every argument through quoting unchanged", async () => {
    const { pool } = await setup();
    const argv = ["args", "a b", "it's", '"q"', "$(x)", "`y`", "a;b", "new\nline", "-n", "*", "~", "ünï"];
    const result = await pool().run(argv);
    expect(JSON.parse(result.stdout)).toEqual(argv.slice(1));
  });

  it("reuses one connection for commands in sequence", async () => {
    const { server, pool } = await setup();
    const p = pool();
    for (let i = 0; i < 10; i++) expect((await p.run(["args", String(i)])).stdout).toBe(`["${i}"]`);
    expect(server.stats.authenticated).toBe(1);
    expect(server.stats.connections).toBe(1);
  });

  it("refuses NUL in an argument before sending anything", async () => {
    const { server, pool } = await setup();
    await expect(pool().run(["args", "a\0b"])).rejects.toThrow(TypeError);
    expect(server.stats.connections).toBe(0);
  });
});

describe("SshPool concurrency", () => {
  it("queues beyond the per-connection channel cap instead of failing", async () => {
    const { server, pool } = await setup({ maxSessions: 4 });
    const p = pool({ maxConnections: 1, channelsPerConnection: 4 });
    const results = await Promise.all(Array.from({ length: 20 }, () => p.run(["sleep", "30"])));
    expect(results.map((r) => r.code)).toEqual(Array(20).fill(0));
    expect(server.stats.maxActiveExecs).toBe(4);
    expect(server.stats.refusedSessions).toBe(0);
    expect(server.stats.authenticated).toBe(1);
  });

  it("retries a channel the server refused once one of its channels closes", async () => {
    const { server, pool } = await setup({ maxSessions: 2 });
    const p = pool({ maxConnections: 1, channelsPerConnection: 4 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => p.run(["args", String(i)])));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 10 }, (_, i) => `["${i}"]`));
    expect(server.stats.refusedSessions).toBeGreaterThan(0);
    expect(server.stats.execs).toBe(10);
  });

  it("opens more connections only when the open ones are full, up to the maximum", async () => {
    const { server, pool } = await setup({ maxSessions: 3 });
    const metrics: PoolMetrics[] = [];
    const p = pool({ maxConnections: 3, channelsPerConnection: 3, onMetrics: (m) => metrics.push(m) });
    await Promise.all(Array.from({ length: 7 }, () => p.run(["sleep", "50"])));
    expect(server.stats.authenticated).toBe(3);
    expect(server.stats.maxActiveExecs).toBe(7);
    expect(Math.max(...metrics.map((m) => m.openConnections))).toBe(3);
    expect(Math.max(...metrics.map((m) => m.busyChannels))).toBe(7);
    expect(metrics.at(-1)).toEqual({ openConnections: 3, connecting: 0, busyChannels: 0, queued: 0 });
  });

  it("limits commands over the whole pool like a semaphore", async () => {
    const { server, pool } = await setup();
    const p = pool({ maxConnections: 2, channelsPerConnection: 8, maxConcurrent: 3 });
    await Promise.all(Array.from({ length: 12 }, () => p.run(["sleep", "20"])));
    expect(server.stats.maxActiveExecs).toBe(3);
    expect(server.stats.authenticated).toBe(1);
  });
});

describe("SshPool host key and authentication", () => {
  it("refuses construction without a pinned fingerprint, or with one in the wrong form", () => {
    const privateKey = { file: "unused" };
    expect(() => new SshPool({ host: "127.0.0.1", username: "aegir", hostKeySHA256: "", privateKey })).toThrow(/pinned host key/);
    const hex = "ab".repeat(32);
    expect(() => new SshPool({ host: "127.0.0.1", username: "aegir", hostKeySHA256: hex, privateKey })).toThrow(/SHA256:/);
  });

  it("refuses a different host key before authenticating", async () => {
    const { server, pool } = await setup();
    const error = await rejection(pool({ hostKeySHA256: generateKeyPair().fingerprint }).run(["args"]));
    expect(error.reason).toBe("HostKeyMismatch");
    expect(error.kind).toBe("permanent");
    expect(error.message).toContain(server.fingerprint);
    expect(server.stats.connections).toBe(1);
    expect(server.stats.authAttempts).toBe(0);
    expect(server.stats.execs).toBe(0);
  });

  it("reports a key the server does not accept as AuthenticationFailed", async () => {
    const { server, pool } = await setup();
    const stranger = generateKeyPair();
    const error = await rejection(pool({ privateKey: { secretRef: { namespace: "a", name: "b", key: "c" }, read: () => Promise.resolve(stranger.privateKey) } }).run(["args"]));
    expect(error.reason).toBe("AuthenticationFailed");
    expect(error.kind).toBe("permanent");
    expect(server.stats.authAttempts).toBeGreaterThan(0);
    expect(server.stats.authenticated).toBe(0);
  });

  it("reports a key that cannot be read as AuthenticationFailed", async () => {
    const { pool } = await setup();
    const error = await rejection(pool({ privateKey: { file: "/nonexistent/aegir-operator/id_ed25519" } }).run(["args"]));
    expect(error.reason).toBe("AuthenticationFailed");
    expect(error.message).toContain("file /nonexistent/aegir-operator/id_ed25519");
  });

  it("reports a closed port as ConnectionRefused, which is transient", async () => {
    const { pool } = await setup();
    const error = await rejection(pool({ port: await freePort() }).run(["args"]));
    expect(error.reason).toBe("ConnectionRefused");
    expect(error.transient).toBe(true);
  });
});

describe("SshPool failures while running", () => {
  it("fails the running command with ConnectionLost when the connection drops, and reconnects for the next", async () => {
    const { server, pool } = await setup();
    const metrics: PoolMetrics[] = [];
    const p = pool({ onMetrics: (m) => metrics.push(m) });
    await p.run(["args"]);
    const running = p.run(["hold"]);
    await until(() => server.stats.activeExecs === 1);
    server.dropConnections();
    const error = await rejection(running);
    expect(error.reason).toBe("ConnectionLost");
    expect(error.transient).toBe(true);
    expect(metrics.at(-1)).toMatchObject({ openConnections: 0, busyChannels: 0 });
    expect((await p.run(["args", "again"])).stdout).toBe('["again"]');
    expect(server.stats.authenticated).toBe(2);
    expect(p.metrics()).toMatchObject({ openConnections: 1, busyChannels: 0 });
  });

  it("fails every command of a connection cut by a failing handler, then reconnects", async () => {
    const { server, pool } = await setup();
    const p = pool({ maxConnections: 1 });
    const other = p.run(["hold"]);
    await until(() => server.stats.activeExecs === 1);
    const [dropped, held] = await Promise.all([rejection(p.run(["drop"])), rejection(other)]);
    expect([dropped.reason, held.reason]).toEqual(["ConnectionLost", "ConnectionLost"]);
    expect((await p.run(["args", "after"])).stdout).toBe('["after"]');
    expect(server.stats.authenticated).toBe(2);
  });

  it("notices a silent peer through keepalives", async () => {
    const { server, pool } = await setup();
    const p = pool({ keepaliveIntervalMs: 50, keepaliveCountMax: 2 });
    await p.run(["args"]);
    const running = p.run(["hold"]);
    await until(() => server.stats.activeExecs === 1);
    server.stall();
    const started = Date.now();
    expect((await rejection(running)).reason).toBe("ConnectionLost");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  // The signal sent with the close is checked against real sshd (ssh2's server ignores requests after stdin's EOF).
  it("times a command out, closes its channel and frees it for the next command", async () => {
    const { server, pool } = await setup();
    const p = pool({ maxConnections: 1, channelsPerConnection: 1 });
    const started = Date.now();
    const error = await rejection(p.run(["hold"], { timeoutMs: 100 }));
    expect(error.reason).toBe("CommandTimeout");
    expect(Date.now() - started).toBeLessThan(1_000);
    await until(() => p.metrics().busyChannels === 0 && server.stats.activeExecs === 0);
    expect((await p.run(["args", "next"])).stdout).toBe('["next"]');
    expect(server.stats.authenticated).toBe(1);
  });

  it("times out a command still waiting for a channel without sending it", async () => {
    const { server, pool } = await setup();
    const p = pool({ maxConnections: 1, channelsPerConnection: 1 });
    const first = p.run(["sleep", "300"]);
    const error = await rejection(p.run(["args"], { timeoutMs: 50 }));
    expect(error.reason).toBe("CommandTimeout");
    expect(error.message).toContain("not sent");
    expect((await first).code).toBe(0);
    expect(server.stats.execs).toBe(1);
  });
});

describe("SshPool.close", () => {
  it("lets running commands finish, refuses new ones, then ends the connections", async () => {
    const { server, pool } = await setup();
    const p = pool({ maxConnections: 1, channelsPerConnection: 2 });
    const running = [p.run(["sleep", "150"]), p.run(["sleep", "150"])];
    const queued = p.run(["args"]);
    await until(() => server.stats.activeExecs === 2);
    const closed = p.close(5_000);
    expect((await rejection(queued)).reason).toBe("ConnectionLost");
    expect((await rejection(p.run(["args"]))).reason).toBe("ConnectionLost");
    expect((await Promise.all(running)).map((r) => r.code)).toEqual([0, 0]);
    await closed;
    expect(p.metrics()).toEqual({ openConnections: 0, connecting: 0, busyChannels: 0, queued: 0 });
    expect(server.stats.execs).toBe(2);
  });

  it("cuts commands still running after the grace period", async () => {
    const { server, pool } = await setup();
    const p = pool();
    const running = p.run(["hold"]);
    await until(() => server.stats.activeExecs === 1);
    const started = Date.now();
    await p.close(100);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await rejection(running)).reason).toBe("ConnectionLost");
  });
});
