// SSH transport timings over loopback: connect time, per-command overhead on a reused
// connection, and throughput with 1-16 parallel channels, against the in-process ssh2 test
// server (trivial handler) and, when installed, a real OpenSSH sshd (drush = /bin/true).
// Run: node test/bench/ssh-transport.ts
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openConnection } from "../../reconcilers/aegir/ssh/connection.ts";
import { fingerprintToHex } from "../../reconcilers/aegir/ssh/fingerprint.ts";
import { SshPool } from "../../reconcilers/aegir/ssh/pool.ts";
import { generateKeyPair } from "../harness/ssh/keys.ts";
import { startTestSshServer } from "../harness/ssh/server.ts";
import { SSHD_MISSING, sshdAvailable, startSshd } from "../harness/ssh/sshd.ts";

interface Target {
  name: string;
  host: string;
  port: number;
  username: string;
  fingerprint: string;
  privateKey: string;
}

const CONNECTS = 20;
const SEQUENTIAL = 200;
const PARALLEL_TOTAL = 800;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function pool(target: Target, parallel: number): SshPool {
  return new SshPool({
    host: target.host,
    port: target.port,
    username: target.username,
    hostKeySHA256: target.fingerprint,
    privateKey: { secretRef: { namespace: "bench", name: "key", key: "k" }, read: () => Promise.resolve(target.privateKey) },
    channelsPerConnection: 8,
    maxConnections: Math.ceil(parallel / 8),
    maxConcurrent: parallel,
  });
}

async function measure(target: Target): Promise<void> {
  const connects: number[] = [];
  for (let i = 0; i < CONNECTS; i++) {
    const started = performance.now();
    const client = await openConnection({
      host: target.host,
      port: target.port,
      username: target.username,
      hostKeyHex: fingerprintToHex(target.fingerprint),
      privateKey: target.privateKey,
      connectTimeoutMs: 10_000,
      keepaliveIntervalMs: 0,
      keepaliveCountMax: 3,
    });
    connects.push(performance.now() - started);
    await new Promise<void>((resolve) => {
      client.once("close", () => resolve());
      client.end();
    });
  }

  const sequential = pool(target, 1);
  await sequential.run(["drush"]);
  const perCommand: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const started = performance.now();
    const result = await sequential.run(["drush", "@hostmaster", "status"]);
    perCommand.push(performance.now() - started);
    if (result.code !== 0) throw new Error(`drush exited ${result.code}: ${result.stderr}`);
  }
  await sequential.close();

  const throughput: string[] = [];
  for (const parallel of [1, 4, 8, 16]) {
    const p = pool(target, parallel);
    await Promise.all(Array.from({ length: parallel }, () => p.run(["drush"])));
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      while (next++ < PARALLEL_TOTAL) await p.run(["drush", "@hostmaster", "status"]);
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    const seconds = (performance.now() - started) / 1000;
    throughput.push(`N=${parallel}: ${Math.round(PARALLEL_TOTAL / seconds)}/s`);
    await p.close();
  }

  console.log(
    `${target.name}: connect median ${median(connects).toFixed(1)} ms (of ${CONNECTS}); ` +
      `per command median ${median(perCommand).toFixed(2)} ms (of ${SEQUENTIAL}, reused connection); ` +
      `throughput ${throughput.join(", ")} (${PARALLEL_TOTAL} commands each)`,
  );
}

const key = generateKeyPair();
const server = await startTestSshServer({ handler: () => Promise.resolve(0), authorizedKey: key.publicKey });
try {
  await measure({ name: "ssh2 test server", host: server.host, port: server.port, username: "aegir", fingerprint: server.fingerprint, privateKey: key.privateKey });
} finally {
  await server.close();
}

if (sshdAvailable()) {
  const bin = mkdtempSync(join(tmpdir(), "aegir-bench-"));
  mkdirSync(join(bin, "bin"));
  symlinkSync("/bin/true", join(bin, "bin", "drush"));
  const sshd = await startSshd({ path: [join(bin, "bin")] });
  try {
    await measure({ name: "OpenSSH sshd", host: sshd.host, port: sshd.port, username: sshd.user, fingerprint: sshd.fingerprint, privateKey: sshd.clientKey.privateKey });
  } finally {
    await sshd.stop();
    rmSync(bin, { recursive: true, force: true });
  }
} else {
  console.log(`OpenSSH sshd: skipped, ${SSHD_MISSING}`);
}
