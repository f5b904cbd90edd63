// End to end, the warm pool: controller replicas as child processes fill a SitePool on the
// simulated Aegir over SSH; an order claims a spare, the leader is SIGKILLed mid-claim, the next
// leader finishes it; no spare is handed out twice and no site keeps a trace of its placeholder.
import { describe, expect, it } from "vitest";
import { API_VERSION } from "../../crds/group.ts";
import type { SitePool } from "../../crds/kinds.ts";
import { kubectlUnavailableReason } from "../harness/kube/index.ts";
import { PLATFORM } from "../hostedsite/harness.ts";
import { Stack, eventually, liveSpares, useStack } from "./stack.ts";

const noKubectl = kubectlUnavailableReason();
if (noKubectl) console.warn(`skipping warm-pool end-to-end tests: ${noKubectl}`);

describe.skipIf(noKubectl !== undefined)("warm pool end to end", () => {
  const e2e = useStack(new Stack());
  const { stack } = e2e;

  const pool = () => stack.api.objects.get({ apiVersion: API_VERSION, kind: "SitePool", name: "aegir-1-openatrium" }) as SitePool | undefined;

  it("fills the pool, and a SIGKILL mid-claim leaves the claim to the next leader: one spare, one site, no trace", async () => {
    stack.controller("replica-a");
    const manifest = { apiVersion: API_VERSION, kind: "SitePool", metadata: { name: "aegir-1-openatrium" }, spec: { server: "aegir-1", platform: PLATFORM, features: ["oa_wiki"], size: { min: 2, max: 2 }, installSeconds: 900 } };
    expect((await e2e.kubectl.run(["apply", "-f", "-"], JSON.stringify(manifest))).stderr).toBe("");
    await eventually(() => (pool()?.status?.ready === 2 ? true : undefined), 60_000, "two ready spares");
    // The first spare is installed, the second a clone of it (spec.refill defaults to Clone; with
    // 15-minute installs the pool copies its only ready spare).
    const filled = pool()?.status?.spares ?? [];
    const copy = filled.find((s) => s.source !== undefined);
    expect(copy?.source).toBe(filled.find((s) => s.source === undefined)?.domain);
    expect(pool()?.status).toMatchObject({ refills: 2, clones: 1 });
    expect(pool()?.status?.conditions?.find((c) => c.type === "RefillByClone")).toMatchObject({ status: "True", reason: "Cloning" });
    const copyNid = stack.sim.site(copy?.domain ?? "")?.nid;
    const get = await e2e.kubectl.run(["get", "sitepools"]);
    expect(get.stdout, get.stdout).toMatch(/aegir-1-openatrium\s+aegir-1\s+platform_openatrium2652\s+2\s+2\s+0\s+0/);
    const wide = await e2e.kubectl.run(["get", "sitepools", "-o", "wide"]);
    expect(wide.stdout, wide.stderr).toMatch(/REFILL[\s\S]*Cloning/);

    // The leader records the claim, then hangs in the rename command: killed there.
    stack.sim.faults.hang({ match: { command: "php-eval:queue-task" } });
    await e2e.kubectl.run(["apply", "-f", "-"], stack.hostedSite("acme", "acme.sites.example.com"));
    const claimed = await eventually(() => pool()?.status?.spares?.find((s) => s.claimedBy === "customers/acme"), 30_000, "the claim");
    await eventually(() => (stack.sim.stats.records.some((r) => r.name === "php-eval:queue-task") ? true : undefined), 30_000, "the rename command");
    stack.replicas[0]!.child.kill("SIGKILL");
    await stack.replicas[0]!.exited;

    stack.controller("replica-b");
    await e2e.kubectl.run(["apply", "-f", "-"], stack.hostedSite("globex", "globex.sites.example.com"));
    for (const name of ["acme", "globex"]) {
      const wait = await e2e.kubectl.run(["wait", "--for=condition=Ready", `hs/${name}`, "--timeout=90s"]);
      expect(wait.stdout, wait.stderr).toContain("condition met");
    }
    const acme = stack.sim.site("acme.sites.example.com");
    const globex = stack.sim.site("globex.sites.example.com");
    // Both came from spares, different ones; the killed claim's spare went to acme only; the clone
    // is one of them, claimed as clean, or (the last spare kept where installs take 15 minutes)
    // globex got a copy of it and it is still the pool's.
    expect(acme?.nid).not.toBe(globex?.nid);
    const copyKept = stack.sim.site(copy?.domain ?? "")?.nid === copyNid;
    expect(copyKept || [acme?.nid, globex?.nid].includes(copyNid)).toBe(true);
    expect(stack.sim.hostmaster.context(claimed.domain)).toBeUndefined();
    for (const site of [acme, globex]) {
      const tasks = [...stack.sim.hostmaster.tasks.values()].filter((t) => t.rid === site?.nid).map((t) => t.type);
      expect(tasks.filter((t) => t === "migrate")).toHaveLength(1);
      const variables = [...(site?.drupal?.variables ?? [])].filter(([, v]) => JSON.stringify(v).includes(".pool.invalid"));
      expect(variables).toEqual([]);
      expect(site?.drupal?.outbox.filter((m) => m.kind === "register_admin_created")).toHaveLength(1);
    }
    // The pool refills and hands out nothing twice.
    await eventually(() => (pool()?.status?.ready === 2 ? true : undefined), 60_000, "the pool refilled");
    const spares = pool()?.status?.spares ?? [];
    // Refilled from what was left: a clone of a ready spare (the pool was emptied: the first refill installs).
    expect(pool()?.status?.clones ?? 0).toBeGreaterThanOrEqual(2);
    expect(spares.some((s) => s.source !== undefined)).toBe(true);
    expect(spares.filter((s) => s.claimedBy !== undefined)).toEqual([]);
    expect(liveSpares(stack.sim).map((s) => s.uri).sort()).toEqual(spares.map((s) => s.domain).sort());
  });
});
