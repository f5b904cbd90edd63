// End to end, day-2 operations: scheduled backups with retention, and a restore request that
// runs exactly once although the controller is killed while it runs.
import { describe, expect, it } from "vitest";
import { API_VERSION } from "../../crds/group.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { kubectlUnavailableReason } from "../harness/kube/index.ts";
import { auditRequests, grantsOf } from "../harness/kube/rbac.ts";
import { Stack, eventually, useStack } from "./stack.ts";

const noKubectl = kubectlUnavailableReason();
const URI = "acme.sites.example.com";

type Restore = { status?: { phase?: string; task?: number } };

describe.skipIf(noKubectl !== undefined)("day-2 operations end to end", () => {
  const e2e = useStack(new Stack());
  const { stack } = e2e;

  const tasks = (type: string) => [...stack.sim.hostmaster.tasks.values()].filter((t) => t.type === type);

  it("backs the site up on its schedule and keeps only what retention says", async () => {
    stack.controller("replica-a");
    await e2e.kubectl.run(["apply", "-f", "-"], stack.hostedSite("acme", URI, { backups: { every: "3s", retain: 2 } }));
    expect((await e2e.kubectl.run(["wait", "--for=condition=Ready", "hs/acme", "--timeout=60s"])).code).toBe(0);
    await eventually(() => (tasks("backup").filter((t) => t.status === 1).length >= 4 && tasks("backup-delete").length >= 2 ? true : undefined), 60_000, "four backups and two prunes");
    await eventually(() => ((stack.sim.site(URI)?.backups.length ?? 0) <= 2 ? true : undefined), 20_000, "retention applied");
    const wait = await e2e.kubectl.run(["wait", "--for=condition=BackupsCurrent", "hs/acme", "--timeout=30s"]);
    expect(wait.code, wait.stderr).toBe(0);
    const status = JSON.parse((await e2e.kubectl.run(["get", "hs/acme", "-o", "json"])).stdout) as { status: { backups: { count: number; lastFile: string } } };
    expect(status.status.backups.count).toBeLessThanOrEqual(2);
    expect(status.status.backups.lastFile).toMatch(/^\/var\/aegir\/backups\/acme\.sites\.example\.com-/);
    // Never more than one backup waiting in the queue at a time.
    const backups = tasks("backup");
    for (const [i, t] of backups.entries()) if (i > 0) expect(t.created).toBeGreaterThanOrEqual(backups[i - 1]!.executed);
  });

  it("runs a restore exactly once although the controller is SIGKILLed while it runs", async () => {
    // Keep backups out of the way: a restore waits for the site's other tasks.
    await e2e.kubectl.run(["apply", "-f", "-"], stack.hostedSite("acme", URI, { backups: { every: "1d", retain: 2 } }));
    const restore = JSON.stringify({ apiVersion: API_VERSION, kind: "HostedSiteRestore", metadata: { name: "acme-restore", namespace: "customers" }, spec: { site: "acme" } });
    expect((await e2e.kubectl.run(["apply", "-f", "-"], restore)).code).toBe(0);
    const get = () => stack.api.objects.get({ apiVersion: API_VERSION, kind: "HostedSiteRestore", namespace: "customers", name: "acme-restore" }) as Restore | undefined;
    await eventually(() => (get()?.status?.phase !== undefined ? true : undefined), 30_000, "the restore to start");
    const a = stack.replicas[0]!;
    a.child.kill("SIGKILL");
    await a.exited;
    stack.controller("replica-b");
    const done = await e2e.kubectl.run(["wait", "--for=jsonpath={.status.phase}=Succeeded", "hostedsiterestore/acme-restore", "--timeout=60s"]);
    expect(done.code, done.stderr).toBe(0);
    const restores = tasks("restore");
    expect(restores).toHaveLength(1);
    expect(get()?.status?.task).toBe(restores[0]!.nid);
    const table = await e2e.kubectl.run(["get", "hostedsiterestores"]);
    expect(table.stdout).toMatch(new RegExp(`acme-restore\\s+acme\\s+Succeeded\\s+${restores[0]!.nid}`));
  });

  it("made only API calls the chart's RBAC grants, restores' status included", () => {
    const rbac = readFileSync(join(import.meta.dirname, "../../charts/aegir-operator/rbac.yaml"), "utf8");
    const requests = stack.api.requests.all().filter((r) => !r.userAgent.startsWith("kubectl"));
    const { denied, unused } = auditRequests(grantsOf(rbac, "aegir-operator-controller"), requests);
    expect(denied).toEqual([]);
    expect(unused).not.toContain("ClusterRole/aegir-operator-controller: patch hosting.openatria.com/hostedsiterestores/status");
  });
});
