// The rollout plan: which sites start next (batch size, one waiting task per server, pause,
// failures), and how each site goes backup → migrate → done or failed, restart-safe.
import { describe, expect, it } from "vitest";
import { PlatformRolloutSpec, type PlatformRolloutSpec as Spec, type SiteRollout } from "../../crds/platformrollout.ts";
import type { ServerStatus, SiteSummary, Task } from "../../reconcilers/aegir/state.ts";
import { type SelectedSite, planRollout } from "../../reconcilers/platformrollout/plan.ts";
import { summary, task } from "../hostedsite/fixtures.ts";

const NOW = "2027-03-01T09:00:00Z";
const OLD = "platform_old";
const NEW = "platform_new";

function spec(overrides: Partial<Spec> = {}): Spec {
  return PlatformRolloutSpec.parse({ fromPlatform: OLD, toPlatform: NEW, batchSize: 5, pauseAfterFailures: 2, ...overrides });
}

function selected(name: string, server = "aegir-1", overrides: Partial<SelectedSite> = {}): SelectedSite {
  return { namespace: "customers", name, uri: `${name}.example.com`, server, ownPlatform: false, annotation: { platform: undefined, migrateAfter: undefined }, ...overrides };
}

function site(name: string, platform = OLD, tasks: Task[] = [task(1, "install", "succeeded")]): SiteSummary {
  return summary({ uri: `${name}.example.com`, platform, tasks });
}

function server(sites: SiteSummary[], queued = 0): ServerStatus {
  return { sites, platforms: [], queue: { queued, processing: 0 }, https: true };
}

/** aegir-1 alone. */
function one(status: ServerStatus): Map<string, ServerStatus> {
  return new Map([["aegir-1", status]]);
}

function entry(name: string, phase: SiteRollout["phase"], extra: Partial<SiteRollout> = {}): SiteRollout {
  return { namespace: "customers", name, server: "aegir-1", phase, at: NOW, ...extra };
}

describe("planRollout", () => {
  it("starts one site per server whose queue has nothing waiting, up to the batch size, each with a backup", () => {
    const sites = ["a", "b", "c", "d"].map((n, i) => selected(n, `aegir-${(i % 3) + 1}`));
    const servers = new Map([
      ["aegir-1", server([site("a"), site("d")])],
      ["aegir-2", server([site("b")])],
      ["aegir-3", server([site("c")], 1)],
    ]);
    const p = planRollout({ spec: spec({ batchSize: 5 }), entries: [], sites, servers, now: NOW });
    expect(p.actions).toEqual([
      { kind: "queueBackup", site: sites[0], uri: "a.example.com", server: "aegir-1" },
      { kind: "queueBackup", site: sites[1], uri: "b.example.com", server: "aegir-2" },
    ]);
    expect(p.entries.map((e) => [e.name, e.phase, e.baselineTask])).toEqual([
      ["a", "BackingUp", 0],
      ["b", "BackingUp", 0],
    ]);
    expect(p.counts).toMatchObject({ selected: 4, remaining: 4, inFlight: 2, done: 0 });
  });

  it("keeps at most batchSize sites in flight", () => {
    const names = ["a", "b", "c"];
    const sites = names.map((n, i) => selected(n, `aegir-${i}`));
    const servers = new Map(names.map((n, i) => [`aegir-${i}`, server([site(n)])]));
    const p = planRollout({ spec: spec({ batchSize: 2 }), entries: [], sites, servers, now: NOW });
    expect(p.actions).toHaveLength(2);
    expect(p.counts.inFlight).toBe(2);
  });

  it("after a successful backup asks for the migrate with the site's newest migrate as baseline, then counts the site done", () => {
    const s = selected("a");
    const backedUp = site("a", OLD, [task(1, "install", "succeeded"), task(5, "migrate", "failed"), task(9, "backup", "succeeded")]);
    const p = planRollout({ spec: spec(), entries: [entry("a", "BackingUp", { baselineTask: 0, task: 9 })], sites: [s], servers: one(server([backedUp])), now: NOW });
    expect(p.actions).toEqual([{ kind: "annotate", site: s, platform: NEW, migrateAfter: 5 }]);
    expect(p.entries).toEqual([entry("a", "Migrating", { baselineTask: 5 })]);

    const migrated = site("a", NEW, [...backedUp.tasks, task(12, "migrate", "succeeded")]);
    const done = planRollout({ spec: spec(), entries: p.entries, sites: [{ ...s, annotation: { platform: NEW, migrateAfter: 5 } }], servers: one(server([migrated])), now: NOW });
    expect(done.entries).toEqual([]);
    expect(done.counts).toMatchObject({ done: 1, remaining: 0, inFlight: 0 });
    expect(done.finished).toEqual([expect.objectContaining({ outcome: "Migrated" })]);
  });

  it("waits while the backup runs, and while another task is waiting in the server's queue", () => {
    const s = selected("a");
    const running = planRollout({ spec: spec(), entries: [entry("a", "BackingUp", { baselineTask: 0, task: 9 })], sites: [s], servers: one(server([site("a", OLD, [task(9, "backup", "processing")])])), now: NOW });
    expect(running.actions).toEqual([]);
    const busy = planRollout({ spec: spec(), entries: [entry("a", "BackingUp", { baselineTask: 0, task: 9 })], sites: [s], servers: one(server([site("a", OLD, [task(9, "backup", "succeeded")])], 1)), now: NOW });
    expect(busy.actions).toEqual([]);
    expect(busy.entries[0]?.phase).toBe("BackingUp");
  });

  it("a failed backup fails the site without a migrate", () => {
    const s = selected("a");
    const p = planRollout({ spec: spec(), entries: [entry("a", "BackingUp", { baselineTask: 0, task: 9 })], sites: [s], servers: one(server([site("a", OLD, [task(9, "backup", "failed")])])), now: NOW });
    expect(p.entries).toEqual([expect.objectContaining({ name: "a", phase: "Failed", reason: "BackupFailed", task: 9 })]);
    expect(p.actions).toEqual([{ kind: "annotate", site: s, platform: OLD, migrateAfter: undefined }]);
    expect(p.counts).toMatchObject({ failed: 1, remaining: 0 });
  });

  it("a failed migrate is reported with its Aegir task, and the site pinned to the old platform", () => {
    const s = selected("a", "aegir-1", { annotation: { platform: NEW, migrateAfter: 0 } });
    const p = planRollout({ spec: spec(), entries: [entry("a", "Migrating", { baselineTask: 0 })], sites: [s], servers: one(server([site("a", OLD, [task(14, "migrate", "failed")])])), now: NOW });
    expect(p.entries).toEqual([expect.objectContaining({ phase: "Failed", reason: "MigrateFailed", task: 14 })]);
    expect(p.entries[0]?.message).toMatch(/Aegir task 14 .* failed; Aegir rolled the site back/);
    expect(p.actions).toEqual([{ kind: "annotate", site: s, platform: OLD, migrateAfter: undefined }]);
  });

  it("pauses after pauseAfterFailures failures, and on spec.paused; the sites in flight still advance", () => {
    const sites = [selected("a"), selected("b"), selected("c", "aegir-2")];
    const entries = [entry("a", "Failed", { reason: "MigrateFailed", task: 3 }), entry("b", "Failed", { reason: "BackupFailed", task: 4 })];
    const servers = new Map([
      ["aegir-1", server([site("a"), site("b")])],
      ["aegir-2", server([site("c")])],
    ]);
    const tooMany = planRollout({ spec: spec({ pauseAfterFailures: 2 }), entries, sites, servers, now: NOW });
    expect(tooMany.paused).toBe("TooManyFailures");
    expect(tooMany.actions.filter((a) => a.kind === "queueBackup")).toEqual([]);
    // Raising the limit resumes.
    expect(planRollout({ spec: spec({ pauseAfterFailures: 3 }), entries, sites, servers, now: NOW }).actions.filter((a) => a.kind === "queueBackup")).toHaveLength(1);

    const inFlight = [entry("c", "BackingUp", { server: "aegir-2", baselineTask: 0, task: 7 })];
    const paused = planRollout({ spec: spec({ paused: true }), entries: inFlight, sites, servers: new Map([...servers, ["aegir-2", server([site("c", OLD, [task(7, "backup", "succeeded")])])]]), now: NOW });
    expect(paused.paused).toBe("Paused");
    expect(paused.actions).toEqual([{ kind: "annotate", site: sites[2], platform: NEW, migrateAfter: 0 }]);
    expect(paused.entries.map((e) => e.name)).toEqual(["c"]);
  });

  it("pauses, whatever pauseAfterFailures says, before the failures outgrow what status can list", () => {
    const names = Array.from({ length: 901 }, (_, i) => `s${i}`);
    const entries = names.slice(0, 900).map((n) => entry(n, "Failed", { reason: "MigrateFailed", task: 1 }));
    const sites = names.map((n) => selected(n, "aegir-1", { annotation: { platform: OLD, migrateAfter: undefined } }));
    const p = planRollout({ spec: spec({ pauseAfterFailures: 0 }), entries, sites, servers: one(server(names.map((n) => site(n)))), now: NOW });
    expect(p.paused).toBe("TooManyFailures");
    expect(p.actions).toEqual([]);
  });

  it("skips sites with their own spec.platform, counts sites already on the new platform done, ignores other platforms", () => {
    const sites = [selected("own", "aegir-1", { ownPlatform: true }), selected("moved"), selected("other")];
    const servers = new Map([["aegir-1", server([site("own"), site("moved", NEW), site("other", "platform_else")])]]);
    const p = planRollout({ spec: spec(), entries: [], sites, servers, now: NOW });
    expect(p.actions).toEqual([]);
    expect(p.counts).toMatchObject({ selected: 3, skipped: 1, done: 1, remaining: 0 });
  });

  it("after a restart adopts the backup it queued instead of queueing a second, and queues one it never did", () => {
    const s = selected("a");
    const adopted = planRollout({ spec: spec(), entries: [entry("a", "BackingUp", { baselineTask: 4 })], sites: [s], servers: one(server([site("a", OLD, [task(4, "backup", "succeeded"), task(8, "backup", "queued")])], 1)), now: NOW });
    expect(adopted.actions).toEqual([]);
    expect(adopted.entries[0]?.task).toBe(8);
    const never = planRollout({ spec: spec(), entries: [entry("a", "BackingUp", { baselineTask: 4 })], sites: [s], servers: one(server([site("a", OLD, [task(4, "backup", "succeeded")])])), now: NOW });
    expect(never.actions).toEqual([{ kind: "queueBackup", site: s, uri: "a.example.com", server: "aegir-1" }]);
  });

  it("writes the migrate annotation again when it was lost, and goes straight to the migrate without backupBeforeMigrate", () => {
    const s = selected("a");
    const lost = planRollout({ spec: spec(), entries: [entry("a", "Migrating", { baselineTask: 0 })], sites: [s], servers: one(server([site("a")])), now: NOW });
    expect(lost.actions).toEqual([{ kind: "annotate", site: s, platform: NEW, migrateAfter: 0 }]);
    const direct = planRollout({ spec: spec({ backupBeforeMigrate: false }), entries: [], sites: [s], servers: one(server([site("a")])), now: NOW });
    expect(direct.entries).toEqual([entry("a", "Migrating", { baselineTask: 0 })]);
    expect(direct.actions).toEqual([{ kind: "annotate", site: s, platform: NEW, migrateAfter: 0 }]);
  });
});
