// One chaos schedule against the whole system: bring it up, play the orders, ops actions and
// faults at their times, stop the faults, wait for convergence, check that a further poll writes
// nothing, and check every invariant.
import { setTimeout as sleep } from "node:timers/promises";
import { convergenceViolations, safetyViolations } from "./invariants.ts";
import type { Schedule } from "./schedule.ts";
import { ChaosWorld, type InjectedCounts } from "./world.ts";

export interface RunOptions {
  /** Longest wait for convergence once faults stop. */
  convergeTimeoutMs: number;
  /** Converged means, besides the invariants, no object changed for this long (more than a poll interval). */
  settleMs: number;
  /** How long the converged system is watched for writes (a few poll intervals). */
  quietMs: number;
}

/** For the controller's 2 s poll interval in the chaos world. */
export const RUN_DEFAULTS: RunOptions = { convergeTimeoutMs: 90_000, settleMs: 3_000, quietMs: 5_000 };

export interface ChaosReport {
  seed: number;
  injected: InjectedCounts;
  /** Must be empty. */
  violations: string[];
  /** From the end of the faults to every invariant holding; null if it never did. */
  convergedMs: number | null;
  /** Writes (drush and controller API) while the converged system was watched. */
  quietWrites: string[];
  deliveries: { attempts: number; refused: number; accepted: number; duplicates: number };
  replicas: { started: number; killed: number; exitedOnTheirOwn: number };
  leaderChanges: number;
  writesChecked: number;
  durationMs: number;
  /** The replicas' last log lines, when something failed. */
  logs: string[];
}

type Step = { atMs: number; run: () => void };

export async function runSchedule(schedule: Schedule, options: RunOptions = RUN_DEFAULTS): Promise<ChaosReport> {
  const started = Date.now();
  const world = await new ChaosWorld(schedule).start();
  try {
    // The schedule's clock starts once a replica leads: faults before that would hit nothing.
    await until(() => world.leases.some((l) => l.holder !== ""), 30_000, "a replica to take the lease");
    const steps = plan(world, schedule);
    const t0 = Date.now();
    for (const step of steps) {
      await sleep(Math.max(0, t0 + step.atMs - Date.now()));
      step.run();
    }
    await sleep(Math.max(0, t0 + schedule.faultWindowMs - Date.now()));
    await world.calm();
    const calmAt = Date.now();

    // Subscriptions change only once their site exists (a site never created is not "lost").
    let lastProblems: string[] = [];
    const converged = await until(
      () => {
        for (const order of world.customers.orders) if (!order.changed && world.hostedSiteOf(order.subscription)) world.customers.change(order);
        const waiting = world.customers.orders.filter((o) => !o.changed);
        if (waiting.length > 0) {
          lastProblems = waiting.map((o) => `order ${o.plan.id} (${o.subscription}) has no HostedSite`);
          return false;
        }
        lastProblems = convergenceViolations(world.snapshot());
        if (!world.aegirIdle()) lastProblems.push("Aegir still has tasks queued or running");
        // Settled: statuses have caught up with what the last tasks did (no change for more than a poll).
        if (Date.now() - world.lastChangeAt < options.settleMs) lastProblems.push(`objects changed less than ${options.settleMs} ms ago`);
        return lastProblems.length === 0;
      },
      options.convergeTimeoutMs,
    );
    const convergedMs = converged ? Date.now() - calmAt : null;
    await world.customers.settled();

    // Converged: watch a few polls; nothing may be written.
    const writesBefore = world.writes.length;
    const commandsBefore = world.sim.stats.records.length;
    const changes = world.watchChanges();
    await sleep(options.quietMs);
    const quietWrites = [
      ...world.sim.stats.records.slice(commandsBefore).filter((c) => c.kind === "write").map((c) => `drush ${c.name} ${c.alias ?? ""}`),
      ...world.writes.slice(writesBefore).filter((w) => w.via === "api").map((w) => `api ${w.what}`),
    ];
    const changed = changes.stop();

    const snapshot = world.snapshot();
    const dead = await world.deadEvents();
    const violations = [
      ...safetyViolations(snapshot),
      ...(dead.length > 0 ? [`${dead.length} inbox events dead-lettered: ${dead.slice(0, 3).join("; ")}`] : []),
      ...(converged ? [] : [`not converged ${options.convergeTimeoutMs} ms after the faults stopped:`, ...lastProblems.map((p) => `  ${p}`), ...world.describeUnready().map((l) => `    ${l}`)]),
      ...(quietWrites.length > 0 ? [`${quietWrites.length} writes after convergence: ${quietWrites.slice(0, 5).join("; ")}`, ...changed.map((c) => `  changed ${c}`)] : []),
    ];
    return {
      seed: schedule.seed,
      injected: world.injected,
      violations,
      convergedMs,
      quietWrites,
      deliveries: { ...world.customers.counts },
      replicas: { ...world.replicas.counts },
      leaderChanges: Math.max(0, snapshot.leases.filter((l) => l.holder !== "").length - 1),
      writesChecked: snapshot.writes.length,
      durationMs: Date.now() - started,
      logs: violations.length > 0 ? [...(await world.replicas.workqueueMetrics()), ...world.replicas.logs().slice(-80)] : [],
    };
  } finally {
    await world.stop();
  }
}

/** The schedule's orders, ops actions and faults as timed steps. */
function plan(world: ChaosWorld, schedule: Schedule): Step[] {
  const steps: Step[] = [];
  for (const order of schedule.orders) {
    steps.push({ atMs: order.placeAtMs, run: () => void world.customers.place(order) });
    steps.push({
      atMs: Math.max(order.changeAtMs, order.placeAtMs),
      run: () => {
        const placed = world.customers.orders.find((o) => o.plan.id === order.id);
        if (placed && world.hostedSiteOf(placed.subscription)) world.customers.change(placed);
      },
    });
  }
  for (const site of schedule.opsSites) {
    steps.push({ atMs: site.createAtMs, run: () => world.applyOpsSite(site) });
    if (site.deleteAtMs !== null) steps.push({ atMs: site.deleteAtMs, run: () => world.deleteOpsSite(site.name) });
  }
  for (const f of schedule.faults) steps.push({ atMs: f.atMs, run: () => world.inject(f.fault) });
  return steps.sort((a, b) => a.atMs - b.atMs);
}

async function until(check: () => boolean, timeoutMs: number, what?: string): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(250);
  }
  if (what !== undefined) throw new Error(`timed out waiting for ${what}`);
  return false;
}
