// The whole path as in production: reconciler → driver → SSH pool → real OpenSSH sshd → the
// remote shell → `drush` on the remote PATH (the simulator's shim) → the simulated Aegir.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { SshPool } from "../../reconcilers/aegir/ssh/pool.ts";
import type { SimulatorServer } from "../harness/aegir/index.ts";
import { type RealSshd, SSHD_MISSING, sshdAvailable, startSshd } from "../harness/ssh/sshd.ts";
import { hostedSite } from "../hostedsite/fixtures.ts";
import { Rig, simulator } from "../hostedsite/harness.ts";

if (!sshdAvailable()) console.warn(`skipping: ${SSHD_MISSING}`);

describe.skipIf(!sshdAvailable())("simulated Aegir behind a real sshd", () => {
  const sim = simulator();
  let endpoint: SimulatorServer;
  let sshd: RealSshd;
  let pool: SshPool;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "aegir-shim-"));
    endpoint = await sim.listen();
    endpoint.installShim(dir);
    sshd = await startSshd({ path: [dir] });
    pool = new SshPool({ host: sshd.host, port: sshd.port, username: sshd.user, hostKeySHA256: sshd.fingerprint, privateKey: { file: sshd.clientKeyPath } });
  });
  afterAll(async () => {
    await pool?.close(1_000);
    await sshd?.stop();
    await endpoint?.close();
    sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads the server and reports drush's errors through the remote shell", async () => {
    const driver = new AegirDriver({ runner: pool });
    const status = await driver.serverStatus();
    expect(status.platforms.map((p) => p.name)).toContain("platform_openatrium2652");
    await expect(driver.siteState("nowhere.example.com", { name: "x", mail: "x@example.com" })).rejects.toMatchObject({ reason: "UnknownSite" });
  });

  it("converges a HostedSite over SSH, and a steady poll costs one command", async () => {
    const rig = new Rig(hostedSite({ features: ["oa_wiki", "oa_markdown"], theme: "oa_radix", userQuota: 20 }), sim, pool);
    await rig.converge();
    expect(rig.sim.site("acme.sites.example.com")?.drupal?.variables.get("theme_default")).toBe("oa_radix");
    rig.advance(60_000);
    const mark = sim.stats.records.length;
    await rig.reconcile();
    expect(sim.stats.records.slice(mark).map((r) => r.name)).toEqual(["php-eval:server-status"]);
  });
});
