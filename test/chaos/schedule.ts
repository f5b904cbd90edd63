// Pure: a seed becomes a fault schedule — the orders customers place (and what later happens to
// their subscriptions), the sites ops apply and delete, and the faults injected, each at a time
// within the fault window. The same seed always gives the same schedule, so a failing run is
// replayed with `npm run chaos -- --seed N`.
import { Random } from "../harness/aegir/random.ts";

export type Kit = "community" | "business" | "enterprise";
/** The subscription's status at the end: what the site must end up as. */
export type FinalStatus = "active" | "past_due" | "unpaid" | "canceled";

export interface OrderPlan {
  id: string;
  kit: Kit;
  /** Own domain, or a subdomain of the catalog's base domain. */
  address: { domain: string } | { subdomain: string };
  users: number;
  placeAtMs: number;
  final: FinalStatus;
  /** When the subscription changes to `final` (only once its HostedSite exists). */
  changeAtMs: number;
  /** Every event of the order is delivered this many times. */
  copies: number;
  /** Deliver the order's events all at once, to both webhook replicas, in random order. */
  concurrent: boolean;
}

export interface OpsSitePlan {
  name: string;
  domain: string;
  createAtMs: number;
  /** `kubectl delete` at this time; null keeps the site. */
  deleteAtMs: number | null;
}

export const DRUSH_COMMANDS = [
  "php-eval:server-status",
  "php-eval:site-state",
  "php-eval:create-site",
  "php-eval:queue-task",
  "php-eval:update-site",
  "php-eval:welcome-mail",
  "php-eval:find-account",
  "pm-enable",
  "variable-set",
  "user-create",
  "user-add-role",
] as const;

export type Fault =
  | { kind: "api-watch-drop"; how: "end" | "destroy" }
  /** Watch history compacted and watches dropped: resuming gets 410 Gone, informers relist. */
  | { kind: "api-watch-expired" }
  | { kind: "api-error"; status: 500 | 409 | 429; resource: "hostedsites" | "aegirservers" | "leases" | "secrets"; count: number }
  | { kind: "api-unavailable"; mode: "refuse" | "reset" | "503"; forMs: number }
  | { kind: "ssh-drop" }
  | { kind: "drush"; fault: "fail" | "overload" | "hang" | "drop-applied" | "drop-lost"; command: (typeof DRUSH_COMMANDS)[number] }
  | { kind: "task-fail"; type: "verify" | "backup" }
  | { kind: "postgres-restart"; downMs: number }
  | { kind: "stripe-api-error"; count: number }
  | { kind: "kill"; target: "leader" | "follower" }
  /** Arms a SIGKILL of the leader at the next matching moment. */
  | { kind: "kill-on"; moment: "create-intent" | "install-running" | "deletion-backup" };

export interface TimedFault {
  atMs: number;
  fault: Fault;
}

export interface Schedule {
  seed: number;
  faultWindowMs: number;
  /** A command whose client vanished mid-way took effect anyway (or never did). */
  abandonedCommandsApply: boolean;
  orders: OrderPlan[];
  opsSites: OpsSitePlan[];
  faults: TimedFault[];
}

export interface ScheduleOptions {
  faultWindowMs: number;
  orders: number;
  opsSites: number;
  faults: number;
}

export const QUICK: ScheduleOptions = { faultWindowMs: 10_000, orders: 4, opsSites: 2, faults: 14 };
export const LONG: ScheduleOptions = { faultWindowMs: 20_000, orders: 8, opsSites: 3, faults: 30 };

const KITS: readonly Kit[] = ["community", "business", "enterprise"];
const FINALS: readonly FinalStatus[] = ["active", "active", "active", "past_due", "unpaid", "canceled"];

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random.next() * items.length)]!;
}

function between(random: Random, min: number, max: number): number {
  return Math.round(min + random.next() * (max - min));
}

function fault(random: Random): Fault {
  switch (between(random, 0, 12)) {
    case 0:
      return { kind: "api-watch-drop", how: pick(random, ["end", "destroy"] as const) };
    case 1:
      return { kind: "api-watch-expired" };
    case 2:
      return { kind: "api-error", status: pick(random, [500, 409, 429] as const), resource: pick(random, ["hostedsites", "hostedsites", "aegirservers", "leases", "secrets"] as const), count: between(random, 1, 4) };
    case 3:
      return { kind: "api-unavailable", mode: pick(random, ["refuse", "reset", "503"] as const), forMs: between(random, 500, 4_000) };
    case 4:
      return { kind: "ssh-drop" };
    case 5:
    case 6:
      return { kind: "drush", fault: pick(random, ["fail", "overload", "hang", "drop-applied", "drop-lost"] as const), command: pick(random, DRUSH_COMMANDS) };
    case 7:
      return { kind: "task-fail", type: pick(random, ["verify", "backup"] as const) };
    case 8:
      return { kind: "postgres-restart", downMs: between(random, 200, 2_000) };
    case 9:
      return { kind: "stripe-api-error", count: between(random, 1, 5) };
    case 10:
      return { kind: "kill", target: pick(random, ["leader", "leader", "follower"] as const) };
    default:
      return { kind: "kill-on", moment: pick(random, ["create-intent", "install-running", "deletion-backup"] as const) };
  }
}

export function makeSchedule(seed: number, options: ScheduleOptions = QUICK): Schedule {
  const random = new Random(seed);
  const window = options.faultWindowMs;
  const orders: OrderPlan[] = [];
  for (let i = 1; i <= options.orders; i++) {
    const label = `c${seed}o${i}`;
    orders.push({
      id: `order-${i}`,
      kit: pick(random, KITS),
      address: random.chance(0.5) ? { domain: `${label}.example.org` } : { subdomain: label },
      users: pick(random, [0, 0, 5, 20]),
      placeAtMs: between(random, 0, window * 0.6),
      final: pick(random, FINALS),
      changeAtMs: between(random, window * 0.3, window),
      copies: pick(random, [1, 1, 2, 3]),
      concurrent: random.chance(0.4),
    });
  }
  const opsSites: OpsSitePlan[] = [];
  for (let i = 1; i <= options.opsSites; i++) {
    const createAtMs = between(random, 0, window * 0.5);
    opsSites.push({
      name: `ops-${i}`,
      domain: `ops${i}-${seed}.example.net`,
      createAtMs,
      deleteAtMs: random.chance(0.6) ? between(random, createAtMs + 500, window) : null,
    });
  }
  const faults: TimedFault[] = [];
  // Always at least one of the hard moments, so every schedule kills during real work.
  faults.push({ atMs: between(random, 0, window * 0.3), fault: { kind: "kill-on", moment: pick(random, ["create-intent", "install-running"] as const) } });
  for (let i = 1; i < options.faults; i++) faults.push({ atMs: between(random, 0, window), fault: fault(random) });
  faults.sort((a, b) => a.atMs - b.atMs);
  return { seed, faultWindowMs: window, abandonedCommandsApply: random.chance(0.5), orders, opsSites, faults };
}

/** Counts by fault kind (drush faults by their own kind), for the report. */
export function faultCounts(faults: readonly Fault[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of faults) {
    const key = f.kind === "drush" ? `drush-${f.fault}` : f.kind === "kill-on" ? `kill-on-${f.moment}` : f.kind === "api-error" ? `api-${f.status}` : f.kind;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** The schedule as text, one line per step, for a failing seed's report. */
export function describeSchedule(s: Schedule): string {
  const lines = [`seed ${s.seed}: fault window ${s.faultWindowMs} ms, abandoned commands ${s.abandonedCommandsApply ? "apply" : "are lost"}`];
  for (const o of s.orders) {
    const where = "domain" in o.address ? o.address.domain : `${o.address.subdomain}.<base>`;
    lines.push(`  ${String(o.placeAtMs).padStart(6)} ms  order ${o.id}: ${o.kit} ${where} users=${o.users} x${o.copies}${o.concurrent ? " concurrent" : ""}; ${o.final} at ${o.changeAtMs} ms`);
  }
  for (const o of s.opsSites) lines.push(`  ${String(o.createAtMs).padStart(6)} ms  ops apply ${o.name} (${o.domain})${o.deleteAtMs === null ? "" : `, delete at ${o.deleteAtMs} ms`}`);
  for (const f of s.faults) lines.push(`  ${String(f.atMs).padStart(6)} ms  ${JSON.stringify(f.fault)}`);
  return lines.join("\n");
}
