import { describe, expect, it } from "vitest";
import type { Backup, ServerStatus, SiteSummary, Task } from "../../reconcilers/aegir/state.ts";
import { type ScheduledSite, planBackups } from "../../reconcilers/backups/plan.ts";
import { scheduleOf } from "../../reconcilers/backups/schedule.ts";

const NOW = Date.parse("2027-03-10T12:00:00Z");
const S = NOW / 1000;
const schedule = scheduleOf({ every: "1d", retain: 3 });

function summary(uri: string, tasks: Task[] = []): SiteSummary {
  return { nid: 1, uri, status: "enabled", verified: 0, platform: "platform_oa", profile: "openatrium", aliases: [], https: "Disabled", tasks };
}

function server(sites: SiteSummary[], queue = { queued: 0, processing: 0 }): ServerStatus {
  return { sites, platforms: [], queue, https: true };
}

const site = (n: number): ScheduledSite => ({ key: `customers/s${n}`, uri: `s${n}.example.com`, schedule });
const backup = (n: number, ageDays: number, bid: number): Backup => ({ bid, uri: `s${n}.example.com`, file: `/var/aegir/backups/s${n}.example.com-${bid}.tar.gz`, at: S - ageDays * 86_400 });

describe("planBackups", () => {
  it("queues nothing while the server's queue holds any task: a customer's install is never behind a backup", () => {
    const plan = planBackups([site(1)], server([summary("s1.example.com")], { queued: 1, processing: 0 }), [], NOW);
    expect(plan.action).toBeUndefined();
    expect(planBackups([site(1)], server([summary("s1.example.com")], { queued: 0, processing: 1 }), [], NOW).action).toBeUndefined();
  });

  it("queues one backup at a time, the most overdue site first", () => {
    const plan = planBackups([site(1), site(2), site(3)], server([summary("s1.example.com"), summary("s2.example.com"), summary("s3.example.com")]), [backup(1, 2, 1), backup(2, 5, 2)], NOW);
    expect(plan.action).toEqual({ kind: "backup", key: "customers/s3", uri: "s3.example.com" });
  });

  it("prunes the oldest backups beyond retention when no backup is due", () => {
    const backups = [backup(1, 4, 1), backup(1, 3, 2), backup(1, 2, 3), backup(1, 0.01, 4), backup(1, 5, 5)];
    const plan = planBackups([site(1)], server([summary("s1.example.com")]), backups, NOW);
    expect(plan.action).toEqual({ kind: "prune", key: "customers/s1", uri: "s1.example.com", files: [backups[4]!.file, backups[0]!.file] });
  });

  it("leaves a site alone while its own task is pending or before its install", () => {
    const pending = summary("s1.example.com", [{ nid: 9, type: "verify", status: "queued", executed: 0, delta: 0, background: false }]);
    expect(planBackups([site(1)], server([pending]), [], NOW).action).toBeUndefined();
    expect(planBackups([site(1)], server([]), [], NOW).reports.get("customers/s1")?.condition).toMatchObject({ status: "Unknown", reason: "SiteNotInAegir" });
  });

  it("reports last success, count, next and BackupsCurrent", () => {
    const plan = planBackups([site(1), site(2)], server([summary("s1.example.com"), summary("s2.example.com")]), [backup(1, 60 / 86_400, 1), backup(2, 3, 2)], NOW);
    const one = plan.reports.get("customers/s1");
    expect(one?.status).toMatchObject({ count: 1, lastSuccess: "2027-03-10T11:59:00Z", lastFile: backup(1, 60 / 86_400, 1).file });
    expect(Date.parse(one!.status.next!)).toBeGreaterThan(NOW);
    expect(one?.condition).toMatchObject({ type: "BackupsCurrent", status: "True", reason: "BackupTaken" });
    expect(plan.reports.get("customers/s2")?.condition).toMatchObject({ status: "False", reason: "BackupOverdue" });
    expect(plan.nextDue).toBe(NOW);
  });

  it("says when the last backup task failed", () => {
    const failed = summary("s1.example.com", [{ nid: 7, type: "backup", status: "failed", executed: S - 60, delta: 5, background: false }]);
    const plan = planBackups([site(1)], server([failed]), [backup(1, 2, 1)], NOW);
    expect(plan.reports.get("customers/s1")?.condition).toMatchObject({ status: "False", reason: "BackupFailed" });
    expect(plan.action).toBeUndefined();
  });
});
