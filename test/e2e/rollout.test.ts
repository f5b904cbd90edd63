// End to end, a platform rollout: 20 sites move to a new platform five at a time, each backed up
// first; one injected migrate failure leaves its site on the old platform and is reported; the
// rollout pauses and resumes; a site created meanwhile lands on the new platform, and a site
// with its own spec.platform is left alone.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { API_VERSION } from "../../crds/group.ts";
import { AegirSimulator } from "../harness/aegir/index.ts";
import { openAtriumPlatform } from "../harness/aegir/platforms.ts";
import { kubectlUnavailableReason } from "../harness/kube/index.ts";
import { auditRequests, grantsOf } from "../harness/kube/rbac.ts";
import { TRACKER } from "../hostedsite/harness.ts";
import { Stack, eventually, useStack } from "./stack.ts";

const noKubectl = kubectlUnavailableReason();
const OLD = "platform_openatrium2652";
const NEW = "platform_openatrium2700";
const LABEL = { "hosting.example.com/wave": "oa27" };
const SITES = Array.from({ length: 20 }, (_, i) => `site-${String(i + 1).padStart(2, "0")}`);
const FAILING = "site-07";
const uriOf = (name: string) => `${name}.sites.example.com`;

interface RolloutStatus {
  done?: number;
  failed?: number;
  remaining?: number;
  inFlight?: number;
  skipped?: number;
  sites?: Array<{ name: string; phase: string; reason?: string; task?: number }>;
  conditions?: Array<{ type: string; status: string; reason: string }>;
}

/** Tasks take a little real time, so batches, pauses and the queue can be seen. */
class RolloutStack extends Stack {
  override readonly sim = new AegirSimulator({
    platforms: [openAtriumPlatform({ extraRoles: ["manager"] }), openAtriumPlatform({ name: NEW, extraRoles: ["manager"] })],
    sites: [{ uri: TRACKER, roles: ["customer", "customer standard", "customer premium"] }],
    latency: { tasks: { backup: 100, migrate: 200 } },
    seed: 1,
  });
}

describe.skipIf(noKubectl !== undefined)("platform rollout end to end", () => {
  const e2e = useStack(new RolloutStack(), (stack) => {
    // The server offers both platforms; the old one, first, is the profile's default.
    const server = stack.api.objects.get({ apiVersion: API_VERSION, kind: "AegirServer", name: "aegir-1" });
    const spec = server?.spec as { platforms: unknown[] };
    stack.api.objects.put({ ...server!, spec: { ...spec, platforms: [...spec.platforms, { name: NEW, profile: "openatrium", ownerRole: "manager" }] } });
    stack.controller("replica-a");
  });
  const { stack } = e2e;

  const site = (name: string, spec: Record<string, unknown> = {}) => {
    const manifest = JSON.parse(stack.hostedSite(name, uriOf(name), { backups: { every: "7d", retain: 4 }, ...spec })) as { metadata: Record<string, unknown> };
    manifest.metadata.labels = LABEL;
    return JSON.stringify(manifest);
  };
  const platformOf = (name: string) => {
    const node = stack.sim.site(uriOf(name));
    return node === undefined ? undefined : stack.sim.hostmaster.platforms.get(node.platform)?.name;
  };
  const tasksOf = (name: string) => {
    const nid = stack.sim.site(uriOf(name))?.nid;
    return [...stack.sim.hostmaster.tasks.values()].filter((t) => t.rid === nid).sort((a, b) => a.nid - b.nid);
  };
  const rollout = () => (stack.api.objects.get({ apiVersion: API_VERSION, kind: "PlatformRollout", name: "oa27" }) as { status?: RolloutStatus } | undefined)?.status;
  const rolloutManifest = (paused: boolean) =>
    JSON.stringify({
      apiVersion: API_VERSION,
      kind: "PlatformRollout",
      metadata: { name: "oa27" },
      spec: { fromPlatform: OLD, toPlatform: NEW, selector: { matchLabels: LABEL }, batchSize: 5, pauseAfterFailures: 2, paused },
    });

  it("installs the sites on the old platform", async () => {
    const manifests = [...SITES.map((n) => site(n)), site("own", { platform: OLD })];
    for (const m of manifests) expect((await e2e.kubectl.run(["apply", "-f", "-"], m)).code).toBe(0);
    const ready = await e2e.kubectl.run(["wait", "--for=condition=Ready", "hs", "--all", "--timeout=120s"]);
    expect(ready.code, ready.stderr).toBe(0);
    for (const n of [...SITES, "own"]) expect(platformOf(n)).toBe(OLD);
  });

  it("starts nothing while paused, then moves the sites in batches of five, a backup before each migrate", async () => {
    let maxInFlight = 0;
    const unsubscribe = stack.api.objects.onChange((_, o) => {
      if (o.kind === "PlatformRollout") maxInFlight = Math.max(maxInFlight, (o.status as RolloutStatus | undefined)?.inFlight ?? 0);
    });
    stack.sim.faults.failTask({ type: "migrate", uri: uriOf(FAILING), message: "Drush command terminated abnormally: updatedb failed." });
    expect((await e2e.kubectl.run(["apply", "-f", "-"], rolloutManifest(true))).code).toBe(0);
    await eventually(() => (rollout()?.conditions?.some((c) => c.type === "Paused" && c.status === "True") ? true : undefined), 30_000, "the rollout to report Paused");
    expect(rollout()).toMatchObject({ done: 0, remaining: 20, inFlight: 0, skipped: 1 });
    expect(SITES.flatMap(tasksOf).filter((t) => t.type === "migrate")).toEqual([]);

    expect((await e2e.kubectl.run(["apply", "-f", "-"], rolloutManifest(false))).code).toBe(0);
    // Pause again part way: the sites in flight finish, no new one starts.
    await eventually(() => ((rollout()?.done ?? 0) >= 5 ? true : undefined), 60_000, "five sites moved");
    expect((await e2e.kubectl.run(["apply", "-f", "-"], rolloutManifest(true))).code).toBe(0);
    const settled = await eventually(() => {
      const s = rollout();
      return s?.inFlight === 0 && s.conditions?.some((c) => c.type === "Paused" && c.status === "True") ? s : undefined;
    }, 30_000, "the sites in flight to finish while paused");
    expect(settled.remaining).toBeGreaterThan(0);
    const migrates = () => SITES.flatMap(tasksOf).filter((t) => t.type === "migrate").length;
    const before = migrates();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(migrates()).toBe(before);

    // A site created during the rollout lands on the new platform, without a migrate.
    expect((await e2e.kubectl.run(["apply", "-f", "-"], site("late"))).code).toBe(0);
    expect((await e2e.kubectl.run(["wait", "--for=condition=Ready", "hs/late", "--timeout=60s"])).code).toBe(0);
    expect(platformOf("late")).toBe(NEW);
    expect(tasksOf("late").map((t) => t.type)).not.toContain("migrate");

    expect((await e2e.kubectl.run(["apply", "-f", "-"], rolloutManifest(false))).code).toBe(0);
    const wait = await e2e.kubectl.run(["wait", "--for=condition=Complete", "platformrollout/oa27", "--timeout=120s"]);
    expect(wait.code, wait.stderr).toBe(0);
    unsubscribe();
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(5);
  });

  it("finishes with 19 on the new platform and the failed one reported on the old", () => {
    const moved = SITES.filter((n) => n !== FAILING);
    for (const n of moved) expect(platformOf(n), n).toBe(NEW);
    expect(platformOf(FAILING)).toBe(OLD);
    const status = rollout();
    // The late site is selected and on the new platform: it counts as done too.
    expect(status).toMatchObject({ done: 20, failed: 1, remaining: 0, inFlight: 0, skipped: 1 });
    const failedMigrate = tasksOf(FAILING).find((t) => t.type === "migrate");
    expect(status?.sites).toEqual([expect.objectContaining({ name: FAILING, phase: "Failed", reason: "MigrateFailed", task: failedMigrate?.nid })]);
    expect(status?.conditions?.find((c) => c.type === "Complete")).toMatchObject({ status: "True", reason: "CompleteWithFailures" });

    // In each site's task log: a successful backup, then the migrate, nothing in between; one migrate each.
    for (const n of SITES) {
      const log = tasksOf(n).filter((t) => t.type !== "install" && t.type !== "verify");
      const migrates = log.filter((t) => t.type === "migrate");
      expect(migrates, n).toHaveLength(1);
      const before = log[log.indexOf(migrates[0]!) - 1];
      expect(before?.type, n).toBe("backup");
      expect(before?.status, n).toBe(1);
    }
    // The site with its own spec.platform was not touched.
    expect(platformOf("own")).toBe(OLD);
    expect(tasksOf("own").map((t) => t.type)).not.toContain("migrate");
  });

  it("shows done, failed and remaining in kubectl get platformrollouts", async () => {
    const table = await e2e.kubectl.run(["get", "platformrollouts"]);
    expect(table.stdout).toMatch(/^NAME\s+FROM\s+TO\s+DONE\s+FAILED\s+REMAINING\s+PAUSED\s+COMPLETE\s+AGE/);
    expect(table.stdout).toMatch(new RegExp(`oa27\\s+${OLD}\\s+${NEW}\\s+20\\s+1\\s+0\\s+False\\s+True`));
  });

  it("made only API calls the chart's RBAC grants, rollouts' status included", () => {
    const rbac = readFileSync(join(import.meta.dirname, "../../charts/aegir-operator/rbac.yaml"), "utf8");
    const requests = stack.api.requests.all().filter((r) => !r.userAgent.startsWith("kubectl"));
    const { denied, unused } = auditRequests(grantsOf(rbac, "aegir-operator-controller"), requests);
    expect(denied).toEqual([]);
    expect(unused).not.toContain("ClusterRole/aegir-operator-controller: patch hosting.openatria.com/platformrollouts/status");
    expect(unused).not.toContain("ClusterRole/aegir-operator-controller: list hosting.openatria.com/platformrollouts");
  });
});
