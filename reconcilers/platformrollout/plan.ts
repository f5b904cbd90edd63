// What a PlatformRollout does next, from its status and what Aegir shows. Pure.
//
// A site goes backup → migrate. Each step is recorded in status (with the site's newest task of
// that type, the baseline) before it is asked for, so after a restart a task newer than the
// baseline is the rollout's and none means it was never queued. The migrate itself is the
// HostedSite controller's: the rollout writes the platform annotation, the HostedSite plan sees
// the platform differ and queues the migrate, once. Like the backup controller, the rollout asks
// for a task on a server only while nothing is waiting in its queue, so at most one of its tasks
// is ever ahead of a customer's install.
import { MAX_BATCH_SIZE, MAX_REPORTED_SITES, type PlatformRolloutSpec, type SiteRollout } from "../../crds/platformrollout.ts";
import { type ServerStatus, type SiteSummary, lastTask, pendingTask } from "../aegir/state.ts";

/** A HostedSite the selector picks, as the plan needs it. */
export interface SelectedSite {
  namespace: string;
  name: string;
  uri: string;
  /** status.server; undefined while not placed. */
  server: string | undefined;
  /** spec.platform is set: the site's own choice wins over the rollout. */
  ownPlatform: boolean;
  /** The platform annotation and the migrate baseline on it. */
  annotation: { platform: string | undefined; migrateAfter: number | undefined };
}

export interface RolloutFacts {
  spec: PlatformRolloutSpec;
  /** Per-site entries from status (in flight and failed). */
  entries: readonly SiteRollout[];
  sites: readonly SelectedSite[];
  /** Each server's status; a server missing here could not be read. */
  servers: ReadonlyMap<string, ServerStatus>;
  now: string;
}

export type RolloutAction =
  | { kind: "queueBackup"; site: SiteKey; uri: string; server: string }
  /** Write the platform annotation: toPlatform with the migrate baseline, or fromPlatform (pinned back after a failure). */
  | { kind: "annotate"; site: SiteKey; platform: string; migrateAfter: number | undefined };

export interface SiteKey {
  namespace: string;
  name: string;
}

/** A site that finished (moved, or failed) this round: for an event. */
export interface Finished {
  site: SiteKey;
  outcome: "Migrated" | "Failed";
  message: string;
}

export interface RolloutPlan {
  entries: SiteRollout[];
  actions: RolloutAction[];
  finished: Finished[];
  counts: { selected: number; done: number; failed: number; remaining: number; inFlight: number; skipped: number };
  /** Why no new site is started: the spec says so, or too many failed. */
  paused: "Paused" | "TooManyFailures" | undefined;
}

type TaskState = "queued" | "processing" | "succeeded" | "failed" | "unknown";

export function planRollout(facts: RolloutFacts): RolloutPlan {
  const { spec, servers, now } = facts;
  const entries = new Map(facts.entries.map((e) => [keyOf(e), { ...e }]));
  const actions: RolloutAction[] = [];
  const finished: Finished[] = [];
  /** Servers with a task waiting in their queue, or about to be: asked for this round. */
  const busy = new Set<string>();
  for (const [server, status] of servers) if (status.queue.queued > 0) busy.add(server);
  const counts = { selected: facts.sites.length, done: 0, failed: 0, remaining: 0, inFlight: 0, skipped: 0 };
  const candidates: Array<{ site: SelectedSite; server: string; summary: SiteSummary }> = [];
  const selectedKeys = new Set(facts.sites.map(keyOf));
  // Entries of sites no longer selected (deleted, relabelled) are dropped; nothing is undone.
  for (const key of entries.keys()) if (!selectedKeys.has(key)) entries.delete(key);

  for (const site of facts.sites) {
    const key = keyOf(site);
    const entry = entries.get(key);
    if (site.ownPlatform) {
      counts.skipped++;
      entries.delete(key);
      continue;
    }
    const server = site.server ?? entry?.server;
    const status = server === undefined ? undefined : servers.get(server);
    const summary = status?.sites.find((s) => s.uri === site.uri && s.status !== "deleted");
    if (entry?.phase === "Failed") {
      counts.failed++;
      // Pinned to the old platform, so nothing moves it back and forth.
      if (site.annotation.platform !== spec.fromPlatform || site.annotation.migrateAfter !== undefined) actions.push({ kind: "annotate", site, platform: spec.fromPlatform, migrateAfter: undefined });
      continue;
    }
    if (server === undefined || status === undefined || summary === undefined) {
      // Not placed, not installed yet, or its server unreadable: an entry waits; a new site is installed on the new platform.
      if (entry !== undefined) {
        counts.inFlight++;
        counts.remaining++;
      }
      continue;
    }
    if (entry === undefined) {
      if (summary.platform === spec.toPlatform) counts.done++;
      else if (summary.platform === spec.fromPlatform) {
        counts.remaining++;
        candidates.push({ site, server, summary });
      }
      continue;
    }
    const next = advance(entry, site, summary, spec, now, busy, actions);
    if (next === "done") {
      entries.delete(key);
      counts.done++;
      finished.push({ site, outcome: "Migrated", message: `${site.uri} moved to platform ${spec.toPlatform}${entry.task === undefined ? "" : ` (Aegir task ${entry.task})`}` });
    } else if (next.phase === "Failed") {
      entries.set(key, next);
      counts.failed++;
      finished.push({ site, outcome: "Failed", message: next.message ?? `${site.uri} failed` });
      actions.push({ kind: "annotate", site, platform: spec.fromPlatform, migrateAfter: undefined });
    } else {
      entries.set(key, next);
      counts.inFlight++;
      counts.remaining++;
    }
  }

  // Failed sites keep their entry (that is what stops a retry), so status must have room for them.
  const full = counts.failed >= MAX_REPORTED_SITES - MAX_BATCH_SIZE;
  const paused = spec.paused ? "Paused" : full || (spec.pauseAfterFailures > 0 && counts.failed >= spec.pauseAfterFailures) ? "TooManyFailures" : undefined;
  if (paused === undefined) {
    for (const { site, server, summary } of candidates) {
      if (counts.inFlight >= spec.batchSize) break;
      if (busy.has(server) || pendingTask(summary) !== undefined) continue;
      busy.add(server);
      counts.inFlight++;
      const entry = spec.backupBeforeMigrate
        ? backingUp(site, server, summary, now)
        : migrating(site, server, summary, now);
      entries.set(keyOf(site), entry);
      actions.push(entry.phase === "BackingUp" ? { kind: "queueBackup", site, uri: site.uri, server } : { kind: "annotate", site, platform: spec.toPlatform, migrateAfter: entry.baselineTask });
    }
  }
  return { entries: [...entries.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b))), actions, finished, counts, paused };
}

/** One in-flight site's next state: "done" once it is on the new platform. */
function advance(entry: SiteRollout, site: SelectedSite, summary: SiteSummary, spec: PlatformRolloutSpec, now: string, busy: Set<string>, actions: RolloutAction[]): SiteRollout | "done" {
  if (entry.phase === "BackingUp") {
    const task = entry.task ?? newerTask(summary, "backup", entry.baselineTask);
    if (task === undefined) {
      // Recorded, but no backup of the rollout's in Aegir: ask for it (again) when the queue has room.
      const free = !busy.has(entry.server) && pendingTask(summary) === undefined;
      busy.add(entry.server);
      if (free) actions.push({ kind: "queueBackup", site, uri: site.uri, server: entry.server });
      return entry;
    }
    const state = taskState(summary, task);
    if (state === "queued" || state === "processing") {
      if (state === "queued") busy.add(entry.server);
      return { ...entry, task };
    }
    if (state !== "succeeded") return failed(entry, "BackupFailed", task, `The backup before the migrate (Aegir task ${task}) ${state === "failed" ? "failed" : "is no longer reported"}; the site was not migrated`, now);
    if (busy.has(entry.server) || pendingTask(summary) !== undefined) return { ...entry, task };
    busy.add(entry.server);
    const next = migrating(site, entry.server, summary, now);
    actions.push({ kind: "annotate", site, platform: spec.toPlatform, migrateAfter: next.baselineTask });
    return next;
  }
  // Migrating.
  if (summary.platform === spec.toPlatform && pendingTask(summary) === undefined) return "done";
  const task = newerTask(summary, "migrate", entry.baselineTask);
  if (task === undefined) {
    // The HostedSite controller queues it once it sees the annotation (written again if it was lost).
    busy.add(entry.server);
    if (site.annotation.platform !== spec.toPlatform || site.annotation.migrateAfter !== entry.baselineTask) {
      actions.push({ kind: "annotate", site, platform: spec.toPlatform, migrateAfter: entry.baselineTask });
    }
    return entry;
  }
  const state = taskState(summary, task);
  if (state === "queued" || state === "processing") {
    if (state === "queued") busy.add(entry.server);
    return { ...entry, task };
  }
  // Aegir rolls a failed migrate back: the site is still on the old platform.
  return failed(entry, "MigrateFailed", task, `Aegir task ${task} (migrate to ${spec.toPlatform}) ${state === "failed" ? "failed; Aegir rolled the site back" : "ended"}, and the site is still on ${summary.platform}`, now);
}

function backingUp(site: SelectedSite, server: string, summary: SiteSummary, now: string): SiteRollout {
  return { namespace: site.namespace, name: site.name, server, phase: "BackingUp", baselineTask: lastTask(summary, "backup")?.nid ?? 0, at: now };
}

function migrating(site: SelectedSite, server: string, summary: SiteSummary, now: string): SiteRollout {
  return { namespace: site.namespace, name: site.name, server, phase: "Migrating", baselineTask: lastTask(summary, "migrate")?.nid ?? 0, at: now };
}

function failed(entry: SiteRollout, reason: string, task: number, message: string, now: string): SiteRollout {
  return { namespace: entry.namespace, name: entry.name, server: entry.server, phase: "Failed", task, reason, message, at: now };
}

/** The site's newest task of the type, if newer than the baseline. */
function newerTask(summary: SiteSummary, type: string, baseline: number | undefined): number | undefined {
  const task = lastTask(summary, type);
  return task !== undefined && task.nid > (baseline ?? 0) ? task.nid : undefined;
}

function taskState(summary: SiteSummary, nid: number): TaskState {
  const task = summary.tasks.find((t) => t.nid === nid);
  if (task === undefined) return "unknown";
  return task.status === "warning" ? "succeeded" : task.status;
}

function keyOf(site: SiteKey): string {
  return `${site.namespace}/${site.name}`;
}
