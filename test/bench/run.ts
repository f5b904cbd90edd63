// The benchmark suite (`npm run bench`): runs the scenarios one after another (so they do not
// compete for the CPU) and prints one table: scenario | measured | reference | ratio | target met.
// Each scenario documents its latency model at the top of its file:
//   convergence.ts  burst of new orders; drush commands per new and per converged site
//   scale.ts        many converged sites, a cold controller: sync time, RSS, resync writes, p99
//   webhook-throughput.ts  Stripe webhook events/s and latency
//   resync.ts       a re-sync pass with Stripe over many orders: requests, peak req/s, duration
//   spaces.ts       many HostedSpaces on one shared site: commands per converged space per poll
//   backups.ts      a night of daily backups: a new order's install waits behind one backup at most
//   sitepool.ts     the warm pool: paid to welcome mail, pool on vs off (discrete-event model, calibrated)
//   rollout.ts      a platform rollout: its duration against the busiest server's serial-queue bound
//   node test/bench/run.ts [--quick] [--sites 1000] [--scale-sites 10000] [--time-factor 0.002] [--contention 1.5] [--skip burst,scale,webhook,resync,spaces,backups,sitepool,rollout]
// --contention: scenario 8's slowdown of two tasks running at once (measured on a real server: README, warm pool).
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { runBackupBench } from "./backups.ts";
import { runBurst } from "./convergence.ts";
import { runResyncBench } from "./resync.ts";
import { runRolloutBench } from "./rollout.ts";
import { runScale } from "./scale.ts";
import { calibrationRows, SITEPOOL_BENCH, sitePoolRows } from "./sitepool.ts";
import { runSpacesBench } from "./spaces.ts";
import { runWebhookBench } from "./webhook-throughput.ts";

export interface Row {
  scenario: string;
  measured: number;
  unit: string;
  reference: number;
  /** "max": measured must stay at or below reference×limit; "min": at or above. */
  target: { kind: "max" | "min"; limit: number } | { kind: "equal" };
  note?: string;
}

export interface SuiteOptions {
  sites: number;
  servers: number;
  timeFactor: number;
  scaleSites: number;
  patches: number;
  webhookEvents: number;
  resyncOrders: number;
  spaces: number;
  /** Scenario 8's assumed slowdown while two tasks run at once (SITEPOOL_BENCH's when not given). */
  contention?: number;
  skip: ReadonlySet<string>;
  /** Progress lines go here (stderr by default). */
  progress?: (line: string) => void;
}

/** The target load of scenario 4. */
const WEBHOOK_RATE = 500;

export const FULL: SuiteOptions = { sites: 1000, servers: 4, timeFactor: 0.002, scaleSites: 10_000, patches: 200, webhookEvents: 5000, resyncOrders: 10_000, spaces: 1000, skip: new Set() };
export const QUICK: SuiteOptions = { sites: 24, servers: 4, timeFactor: 0.001, scaleSites: 60, patches: 10, webhookEvents: 200, resyncOrders: 200, spaces: 24, skip: new Set() };

/** Stripe's read limit in live mode, requests per second. */
const STRIPE_READ_LIMIT = 100;

export function met(row: Row): boolean {
  const ratio = ratioOf(row);
  if (row.target.kind === "equal") return row.measured === row.reference;
  return row.target.kind === "max" ? ratio <= row.target.limit : ratio >= row.target.limit;
}

function ratioOf(row: Row): number {
  if (row.reference === 0) return row.measured === 0 ? 1 : Number.POSITIVE_INFINITY;
  return row.measured / row.reference;
}

const fmt = (n: number) => (Number.isNaN(n) ? "n/a" : Math.abs(n) >= 100 || Number.isInteger(n) ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toFixed(3));

export function table(rows: readonly Row[]): string {
  const body = rows.map((r) => [r.scenario, `${fmt(r.measured)} ${r.unit}`, `${fmt(r.reference)} ${r.unit}`, r.target.kind === "equal" ? "-" : fmt(ratioOf(r)), met(r) ? "yes" : "no"]);
  const head = ["scenario", "measured", "reference", "ratio", "target met"];
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.scenario}: ${r.note}`);
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line), ...(notes.length ? ["", ...notes] : [])].join("\n");
}

export async function runSuite(o: SuiteOptions): Promise<Row[]> {
  const say = o.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const rows: Row[] = [];
  if (!o.skip.has("burst")) {
    say(`burst: ${o.sites} sites over ${o.servers} servers, timeFactor ${o.timeFactor} ...`);
    const { burst, steady } = await runBurst({ sites: o.sites, servers: o.servers, timeFactor: o.timeFactor, maxConcurrentReconciles: 32, maxConcurrentOperations: 8, timeoutMs: 600_000 });
    say(`  ${JSON.stringify({ burst, steady })}`);
    rows.push(
      {
        scenario: `1 burst: ${burst.sites} new sites to Ready`,
        measured: burst.seconds,
        unit: "s",
        reference: burst.boundSeconds,
        target: { kind: "max", limit: 1.1 },
        note: `bound = max per server of (n-1)x(install+start delay) + lone site ${burst.singleSiteSeconds.toFixed(2)} s; ${burst.reconciles} reconciles; task queues idle ${burst.taskQueueIdleSeconds.map((s) => s.toFixed(2)).join("/")} s`,
      },
      {
        scenario: "2 drush commands per new site until Ready",
        measured: burst.commandsPerSite,
        unit: "cmd",
        reference: burst.singleSiteCommands,
        target: { kind: "max", limit: 1.5 },
        note: `reference: a lone site on an idle server; counting also the polls and drift checks of sites already Ready while others install: ${burst.allCommandsPerSite.toFixed(1)} per site; mix ${JSON.stringify(burst.commandsByName)}`,
      },
      {
        scenario: "2 steady: server-status per server per poll",
        measured: steady.statusPerServerPerPoll,
        unit: "cmd",
        reference: 1,
        target: { kind: "max", limit: 1.05 },
        note: `${steady.sites} converged sites, ${steady.polls} polls, ${steady.writes} writes`,
      },
      {
        scenario: "2 steady: deep reads per site per poll (amortized)",
        measured: steady.deepPerSitePerPoll,
        unit: "cmd",
        reference: 2 / 30,
        target: { kind: "max", limit: 1.5 },
        note: "reference: site-state + tracker account once per drift check (30 min / 60 s poll)",
      },
      {
        scenario: "2 steady: all commands per site per poll vs naive",
        measured: steady.totalPerSitePerPoll,
        unit: "cmd",
        reference: steady.baseline.totalPerSitePerPoll,
        target: { kind: "max", limit: 0.1 },
        note: `naive baseline (driftCheckMs 0): ${steady.baseline.perServerPerPoll.toFixed(0)} commands per server per poll`,
      },
    );
  }
  if (!o.skip.has("scale")) {
    say(`scale: ${o.scaleSites} converged sites, controller as a child process ...`);
    const r = await runScale({ sites: o.scaleSites, servers: o.servers, maxConcurrentReconciles: 32, maxConcurrentOperations: 8, patches: o.patches, timeoutMs: 600_000 });
    say(`  ${JSON.stringify(r)}`);
    rows.push(
      { scenario: `3 scale: ${r.sites} sites, start to all synced`, measured: r.syncSeconds, unit: "s", reference: 30, target: { kind: "max", limit: 1 }, note: `populating the fake API server and simulators took ${r.populateSeconds.toFixed(1)} s (not counted)` },
      { scenario: "3 scale: controller RSS after sync", measured: r.rssMB, unit: "MB", reference: 300, target: { kind: "max", limit: 1 }, note: `peak (VmHWM) ${r.peakRssMB.toFixed(0)} MB, V8 heap in use ${r.heapUsedMB.toFixed(0)} MB` },
      { scenario: "3 scale: drush writes during the full resync", measured: r.resyncWrites, unit: "cmd", reference: 0, target: { kind: "equal" }, note: `${r.resyncReads} reads, ${r.statusWritesDuringSync} status writes to the API` },
      { scenario: "3 scale: spec change to reconcile, p99", measured: r.patchP99Ms, unit: "ms", reference: 100, target: { kind: "max", limit: 1 }, note: `p50 ${fmt(r.patchP50Ms)} ms over ${r.patchesSeen} PATCHes` },
    );
  }
  if (!o.skip.has("webhook")) {
    // The most the endpoint takes (a burst over 32 connections), then latency and the worker at
    // the target load itself: 500 events/s offered, open loop (latency at saturation is queueing).
    say(`webhook: ${o.webhookEvents} events as a burst, then offered at ${WEBHOOK_RATE}/s ...`);
    const w = await runWebhookBench({ events: o.webhookEvents, concurrency: 32, workers: 4 });
    say(`  ${JSON.stringify(w)}`);
    const paced = await runWebhookBench({ events: o.webhookEvents, concurrency: 32, workers: 4, ratePerSecond: WEBHOOK_RATE });
    say(`  ${JSON.stringify(paced)}`);
    rows.push(
      { scenario: "4 webhook: events accepted per second (burst)", measured: w.eventsPerSecond, unit: "ev/s", reference: WEBHOOK_RATE, target: { kind: "min", limit: 1 }, note: `${w.accepted}/${w.events} accepted; burst p99 ${fmt(w.p99Ms)} ms; worker ${w.workerKeptUp ? "kept up" : "fell behind"}` },
      { scenario: `4 webhook: latency p99 at ${WEBHOOK_RATE} ev/s`, measured: paced.p99Ms, unit: "ms", reference: 50, target: { kind: "max", limit: 1 }, note: `p50 ${fmt(paced.p50Ms)} ms; ${paced.accepted}/${paced.events} accepted` },
      { scenario: `4 webhook: inbox worker kept up at ${WEBHOOK_RATE} ev/s`, measured: paced.workerKeptUp ? 1 : 0, unit: "", reference: 1, target: { kind: "equal" }, note: `1 = yes (inbox depth when sending stopped <= 2x concurrency); drained ${fmt(paced.drainSeconds)} s later` },
    );
  }
  if (!o.skip.has("resync")) {
    const drift = Math.max(1, Math.round(o.resyncOrders / 100));
    say(`resync: a pass over ${o.resyncOrders} orders, ${drift} bought and ${drift} canceled without events ...`);
    const r = await runResyncBench({ orders: o.resyncOrders, drift, readRate: 25, progress: say });
    rows.push(
      {
        scenario: `5 resync: pass over ${r.orders + r.drift} subscriptions until ${2 * r.drift} drifted orders repaired`,
        measured: r.drifted.seconds,
        unit: "s",
        reference: r.drifted.boundSeconds,
        target: { kind: "max", limit: 1.1 },
        note: `${r.drifted.repaired}/${r.drifted.expectedRepaired} repaired; bound = ${r.drifted.listRequests} list pages at ${r.readRate}/s + ${r.drifted.reviews} reviews paced at half the read rate (4 reads each at most); filling the ledger (not counted): ${r.populate.requests} requests in ${r.populate.seconds.toFixed(0)} s unthrottled, i.e. about ${(r.populate.requests / (r.readRate / 2) / 60).toFixed(0)} min for a first pass at half of ${r.readRate}/s`,
      },
      { scenario: "5 resync: repaired orders", measured: r.drifted.repaired, unit: "", reference: r.drifted.expectedRepaired, target: { kind: "equal" } },
      {
        scenario: "5 resync: Stripe requests of the pass",
        measured: r.drifted.requests,
        unit: "req",
        reference: r.drifted.boundRequests,
        target: { kind: "max", limit: 1 },
        note: `${r.drifted.listRequests} list pages (GET /v1/subscriptions?status=all, 100 a page) + the reviews' reads; a pass when nothing changed: ${r.steady.requests} requests in ${r.steady.seconds.toFixed(1)} s`,
      },
      {
        scenario: `5 resync: peak Stripe req/s vs Stripe's ${STRIPE_READ_LIMIT}/s`,
        measured: r.drifted.peakPerSecond,
        unit: "req/s",
        reference: STRIPE_READ_LIMIT,
        target: { kind: "max", limit: 1 },
        note: `--stripe-read-rate ${r.readRate} (burst ${Math.ceil(r.readRate / 10)}), any 1 s window sampled every 50 ms; steady pass peak ${r.steady.peakPerSecond} req/s`,
      },
    );
  }
  if (!o.skip.has("spaces")) {
    say(`spaces: ${o.spaces} HostedSpaces on one shared site ...`);
    const r = await runSpacesBench({ spaces: o.spaces, polls: 10 });
    say(`  ${JSON.stringify(r)}`);
    rows.push({
      scenario: `6 spaces: commands per converged space per poll (${r.spaces} on one site)`,
      measured: r.perSpacePerPoll,
      unit: "cmd",
      reference: 1 / r.spaces,
      target: { kind: "max", limit: 1 },
      note: `reference: the shared space-list read only; ${r.polls} polls, ${r.steadyWrites} writes; ${fmt(r.commandsPerNewSpace)} commands per new space to Ready, ${r.convergeListReads} list read(s), ${fmt(r.convergeSeconds)} s for all`,
    });
  }
  if (!o.skip.has("backups")) {
    say(`backups: a night of daily backups of ${o.sites} sites on ${o.servers} servers, virtual time ...`);
    const b = await runBackupBench({ sites: o.sites, servers: o.servers });
    say(`  ${JSON.stringify(b)}`);
    rows.push(
      {
        scenario: "7 backups: a new order's install waits behind backups",
        measured: b.maxInstallDelaySeconds,
        unit: "s",
        reference: b.backupSeconds,
        target: { kind: "max", limit: 1 },
        note: `worst of ${b.installs} installs, beyond hosting-queued's 1 s pause; reference: one backup (${b.backupSeconds} s)`,
      },
      { scenario: "7 backups: sites backed up in the night", measured: b.backups, unit: "", reference: b.sites, target: { kind: "equal" }, note: `last backup queued at ${b.lastBackupAt} (window 01:00-07:00 UTC)` },
    );
  }
  if (!o.skip.has("sitepool")) {
    say("sitepool: warm pool on vs off, Poisson orders and a burst, virtual time ...");
    rows.push(...sitePoolRows({ ...SITEPOOL_BENCH, ...(o.contention === undefined ? {} : { besideSlowdown: o.contention }) }), ...(await calibrationRows(SITEPOOL_BENCH, { timeFactor: 0.01, timeoutMs: 120_000 })));
  }
  if (!o.skip.has("rollout")) {
    say(`rollout: ${o.sites} sites on ${o.servers} servers to a new platform, a backup before each migrate, virtual time ...`);
    const r = await runRolloutBench({ sites: o.sites, servers: o.servers });
    say(`  ${JSON.stringify(r)}`);
    rows.push(
      {
        scenario: `9 rollout: duration of a ${r.sites}-site platform rollout`,
        measured: r.durationSeconds,
        unit: "s",
        reference: r.boundSeconds,
        target: { kind: "max", limit: 1.05 },
        note: `reference: the busiest server's backups and migrates back to back (serial queue); ${r.migrated} migrated, ${r.failed} failed; hosting-queued's 1 s before each task is the gap`,
      },
      { scenario: "9 rollout: tasks waiting in one server's queue", measured: r.maxQueued, unit: "", reference: 1, target: { kind: "max", limit: 1 }, note: "most ever queued and not started on one server: the queue kept busy, never flooded" },
    );
  }
  return rows;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      sites: { type: "string" },
      "scale-sites": { type: "string" },
      "time-factor": { type: "string" },
      contention: { type: "string" },
      skip: { type: "string", default: "" },
    },
  });
  const contention = values.contention === undefined ? undefined : Number(values.contention);
  if (contention !== undefined && !(Number.isFinite(contention) && contention >= 1)) {
    console.error(`--contention must be a number >= 1 (the slowdown of two tasks at once; 1: none), not ${JSON.stringify(values.contention)}`);
    process.exit(2);
  }
  const base = values.quick ? QUICK : FULL;
  const options: SuiteOptions = {
    ...base,
    ...(values.sites ? { sites: Number(values.sites) } : {}),
    ...(values["scale-sites"] ? { scaleSites: Number(values["scale-sites"]) } : {}),
    ...(values["time-factor"] ? { timeFactor: Number(values["time-factor"]) } : {}),
    ...(contention === undefined ? {} : { contention }),
    skip: new Set(values.skip.split(",").filter(Boolean)),
  };
  const rows = await runSuite(options);
  console.log(table(rows));
}
