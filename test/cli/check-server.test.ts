// `aegir-operator check-server` end to end: the command reads an AegirServer manifest and
// checks the simulated Aegir behind a real OpenSSH sshd, through the remote shell and the drush
// shim, like a seller checking a real server. One healthy server (the sandbox's) and broken ones.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { afterAll, describe, expect, it } from "vitest";
import { makeCheckServerCommand } from "../../controller/cli/check-server.ts";
import type { CheckRow } from "../../reconcilers/aegir/conformance/checks.ts";
import { AegirSimulator, type SimulatorOptions, openAtriumPlatform } from "../harness/aegir/index.ts";
import { sandboxAegir } from "../harness/sandbox.ts";
import { SSHD_MISSING, sshdAvailable, startSshd } from "../harness/ssh/sshd.ts";
import { captureIO } from "../helpers/io.ts";
import { tempDir } from "../helpers/tmp.ts";

if (!sshdAvailable()) console.warn(`skipping: ${SSHD_MISSING}`);

interface Server {
  sim: AegirSimulator;
  check(args?: string[], spec?: Record<string, unknown>): Promise<{ code: number; out: string; err: string; rows: CheckRow[] }>;
}

describe.skipIf(!sshdAvailable())("aegir-operator check-server over a real sshd", () => {
  const dir = tempDir();
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  /** A simulated Aegir behind its own sshd, and a check-server run against a manifest for it. */
  async function server(options: SimulatorOptions): Promise<Server> {
    const sim = new AegirSimulator(options);
    const shim = mkdtempSync(join(tmpdir(), "aegir-shim-"));
    const endpoint = await sim.listen();
    endpoint.installShim(shim);
    const sshd = await startSshd({ path: [shim] });
    cleanups.push(async () => {
      await sshd.stop();
      await endpoint.close();
      sim.close();
      rmSync(shim, { recursive: true, force: true });
    });
    const command = makeCheckServerCommand({ loginAs: sshd.user });
    let n = 0;
    return {
      sim,
      async check(args = [], spec = {}) {
        const file = join(dir, `server-${sshd.port}-${n++}.yaml`);
        writeFileSync(
          file,
          yaml.dump({
            apiVersion: "hosting.openatria.com/v1alpha1",
            kind: "AegirServer",
            metadata: { name: "aegir-1" },
            spec: {
              host: sshd.host,
              port: sshd.port,
              hostKeySHA256: sshd.fingerprint,
              privateKeySecretRef: { name: "aegir-1-ssh", namespace: "aegir-operator" },
              capacity: { maxSites: 10 },
              platforms: [{ name: "platform_openatrium2652", profile: "openatrium", ownerRole: "manager" }],
              ...spec,
            },
          }),
        );
        const io = captureIO();
        const code = await command.run(["-f", file, "--ssh-key-file", sshd.clientKeyPath, ...args], io);
        const jsonIO = captureIO();
        expect(await command.run(["-f", file, "--ssh-key-file", sshd.clientKeyPath, "-o", "json", ...args], jsonIO)).toBe(code);
        return { code, out: io.out(), err: io.err(), rows: (JSON.parse(jsonIO.out()) as { checks: CheckRow[] }).checks };
      },
    };
  }

  const byId = (rows: CheckRow[]) => Object.fromEntries(rows.map((r) => [r.id, r.status]));

  it("passes the sandbox's simulated server, and sends a test mail when asked", async () => {
    const s = await server(sandboxAegir());
    const before = s.sim.stats.counts();
    const r = await s.check();
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(byId(r.rows)).toEqual({
      ssh: "pass",
      user: "pass",
      drush: "pass",
      hostmaster: "pass",
      stdin: "pass",
      "module:hosting_alias": "pass",
      "module:hosting_https": "pass",
      queue: "pass",
      stuck: "pass",
      "platform:platform_openatrium2652": "pass",
      "extensions:platform_openatrium2652": "pass",
      "role:platform_openatrium2652": "pass",
      mail: "skip",
    });
    expect(r.out).toContain("  PASS  drush 8.x: drush 8.4.12\n");
    expect(r.out).toContain("The server passes every check.");
    // Read-only: nothing but reads ran.
    expect(s.sim.stats.counts().writes).toBe(before.writes);
    const mail = await s.check(["--send-test-mail", "ops@example.com"]);
    expect(mail.rows.find((row) => row.id === "mail")?.status).toBe("pass");
  });

  it("fails a platform that does not exist, naming it, with the remedy", async () => {
    const s = await server(sandboxAegir());
    const r = await s.check([], {
      platforms: [
        { name: "platform_openatrium2652", profile: "openatrium", ownerRole: "manager" },
        { name: "platform_missing", profile: "openatrium" },
      ],
    });
    expect(r.code).toBe(1);
    expect(byId(r.rows)).toMatchObject({ "platform:platform_openatrium2652": "pass", "platform:platform_missing": "fail", "extensions:platform_missing": "skip" });
    expect(r.out).toMatch(/FAIL {2}platform platform_missing exists.*: no such platform on the server\n {8}remedy: create and verify the platform in Aegir, or correct spec\.platforms\[1\]/);
    expect(r.out).toContain("1 check(s) failed.");
  });

  it("fails missing modules: a sold feature, the quota module, a dependency, a hosting module", async () => {
    const oa = openAtriumPlatform({ extraRoles: ["manager"], extraThemes: ["oa_mercury"] });
    const s = await server({ ...sandboxAegir(), platforms: [{ ...oa, modules: oa.modules.filter((m) => !["oa_markdown", "user_limit", "ctools"].includes(m)) }] });
    const hostmaster = s.sim.hostmaster.sites.get(s.sim.hostmaster.context("hostmaster") ?? 0)?.drupal;
    if (hostmaster) hostmaster.modules = hostmaster.modules.filter((m) => m !== "hosting_https");
    const r = await s.check();
    expect(r.code).toBe(1);
    expect(byId(r.rows)).toMatchObject({ "module:hosting_alias": "pass", "module:hosting_https": "fail", "extensions:platform_openatrium2652": "fail", "platform:platform_openatrium2652": "pass" });
    const detail = r.rows.find((row) => row.id === "extensions:platform_openatrium2652")?.detail;
    expect(detail).toContain("module(s) not on the platform: user_limit, oa_markdown");
    expect(detail).toMatch(/dependency ctools not on the platform \(needed by oa_analytics, oa_discussion, .*oa_wiki/);
    expect(r.out).toContain("remedy: enable it: `drush @hostmaster pm-enable -y hosting_https`");
  });

  it("fails at SSH when the server's host key is not the pinned one, and checks nothing else", async () => {
    const s = await server(sandboxAegir());
    const r = await s.check([], { hostKeySHA256: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s" });
    expect(r.code).toBe(1);
    expect(r.rows[0]).toMatchObject({ id: "ssh", status: "fail" });
    expect(r.rows[0]?.detail).toMatch(/does not match the pinned fingerprint/);
    expect(r.rows.slice(1).every((row) => row.status === "skip")).toBe(true);
    expect(s.sim.stats.records).toHaveLength(0);
  });

  it("fails drush 9 and runs no drush 8 command line against it", async () => {
    const s = await server({ ...sandboxAegir(), server: { drushVersion: "9.7.2" } });
    const r = await s.check();
    expect(r.code).toBe(1);
    expect(byId(r.rows)).toMatchObject({ ssh: "pass", drush: "fail", hostmaster: "skip", stdin: "skip" });
    expect(r.out).toContain("drush 9.7.2: Aegir 3 and the operator's command lines need drush 8");
    expect(new Set(s.sim.stats.records.map((rec) => rec.name))).toEqual(new Set(["version"]));
  });

  it("fails a server whose queue does not run, where stdin does not reach php-eval, and where drush runs as root", async () => {
    const stdin = await server({ ...sandboxAegir(), server: { stdinReachesPhp: false } });
    const r = await stdin.check();
    expect(byId(r.rows)).toMatchObject({ stdin: "fail", "module:hosting_alias": "skip" });
    const queue = await server({ ...sandboxAegir(), server: { queueDaemon: false, unixUser: "root" } });
    const q = await queue.check();
    expect(byId(q.rows)).toMatchObject({ queue: "fail", user: "fail", stdin: "pass" });
  });
});
