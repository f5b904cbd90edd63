// The short seeded chaos run of `npm test` (the long one is `npm run chaos -- --seeds N`), and
// the checks that the schedule and the invariants themselves can fail.
import { describe, expect, it } from "vitest";
import { convergenceViolations, safetyViolations, type Snapshot } from "./invariants.ts";
import { runSchedule } from "./run.ts";
import { describeSchedule, faultCounts, makeSchedule, QUICK } from "./schedule.ts";
import { canAttributeSockets } from "./socket-owner.ts";

const SEEDS = (process.env.CHAOS_SEEDS ?? "11,12").split(",").map(Number);

describe("fault schedules", () => {
  it("are reproducible from their seed and differ between seeds", () => {
    expect(makeSchedule(7)).toEqual(makeSchedule(7));
    expect(describeSchedule(makeSchedule(7))).not.toEqual(describeSchedule(makeSchedule(8)));
  });

  it("cover every fault kind over a few seeds, and always kill during real work", () => {
    const kinds = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) {
      const s = makeSchedule(seed);
      expect(s.faults.some((f) => f.fault.kind === "kill-on")).toBe(true);
      for (const k of Object.keys(faultCounts(s.faults.map((f) => f.fault)))) kinds.add(k.replace(/^drush-.*/, "drush").replace(/^api-\d+$/, "api-error").replace(/^kill-on-.*/, "kill-on"));
    }
    expect([...kinds].sort()).toEqual(
      ["api-error", "api-unavailable", "api-watch-drop", "api-watch-expired", "drush", "kill", "kill-on", "postgres-restart", "ssh-drop", "stripe-api-error", "stripe-events-lost", "stripe-outage", "task-fail"].sort(),
    );
  });
});

const base = (): Snapshot => ({
  orders: [{ id: "order-1", subscription: "sub_1", email: "jane@example.com", status: "active" }],
  opsSites: [{ name: "ops-1", domain: "ops.example.net", email: "ops@example.net", deletedAt: 1_000_000 }],
  hostedSites: [
    {
      name: "sub-1",
      subscription: "sub_1",
      domain: "jane.example.org",
      email: "jane@example.com",
      suspended: false,
      expiresAt: undefined,
      ready: { status: "True", reason: "Ready" },
      deleting: false,
      observedCurrent: true,
    },
  ],
  aegirSites: [
    {
      nid: 10,
      uri: "jane.example.org",
      status: 1,
      tasks: [{ nid: 11, type: "install", status: 1, created: 900 }],
      welcomeMails: ["jane@example.com"],
      users: [{ uid: 2, mail: "jane@example.com", roles: ["manager"], status: 1 }],
    },
    {
      nid: 20,
      uri: "ops.example.net",
      status: -2,
      tasks: [
        { nid: 21, type: "install", status: 1, created: 900 },
        { nid: 22, type: "disable", status: 1, created: 1_000 },
        { nid: 23, type: "backup", status: 1, created: 1_001 },
        { nid: 24, type: "delete", status: 1, created: 1_002 },
      ],
      welcomeMails: [],
      users: [],
    },
  ],
  trackerAccounts: ["jane@example.com"],
  ownerRole: "manager",
  writes: [
    { at: 100, via: "ssh", what: "user-create", identity: "a" },
    { at: 300, via: "api", what: "patch hostedsites/status", identity: "b" },
  ],
  leases: [
    { at: 50, holder: "a" },
    { at: 200, holder: "b" },
  ],
  now: 2_000_000,
});

describe("invariants", () => {
  it("hold on a consistent snapshot", () => {
    expect(convergenceViolations(base())).toEqual([]);
    expect(safetyViolations(base())).toEqual([]);
  });

  it("catch every kind of violation", () => {
    const cases: Array<[string, (s: Snapshot) => void, RegExp]> = [
      ["a second site for one order", (s) => s.hostedSites.push({ ...s.hostedSites[0]!, name: "dup" }), /has 2 HostedSites/],
      ["a lost order", (s) => (s.hostedSites = []), /has 0 HostedSites/],
      ["a suspended active order", (s) => (s.hostedSites[0]!.suspended = true), /active but sub-1 is suspended/],
      ["an unsuspended unpaid order", (s) => (s.orders[0]!.status = "unpaid"), /not suspended/],
      ["a canceled order not expired", (s) => (s.orders[0]!.status = "canceled"), /expiresAt unset/],
      ["a deleted ops site still there", (s) => (s.aegirSites[1]!.status = 1), /Aegir site ops.example.net is still there/],
      ["two welcome mails", (s) => s.aegirSites[0]!.welcomeMails.push("jane@example.com"), /2 welcome mails/],
      ["uid 1 as owner", (s) => (s.aegirSites[0]!.users[0]!.uid = 1), /owner accounts/],
      ["two support accounts", (s) => s.trackerAccounts.push("jane@example.com"), /2 support tracker accounts/],
      ["two installs", (s) => s.aegirSites[0]!.tasks.push({ nid: 12, type: "install", status: 1, created: 901 }), /installed 2 times/],
      ["a site created twice", (s) => s.aegirSites.push({ ...s.aegirSites[0]!, nid: 30, status: -2, tasks: [] }), /created 2 times/],
      ["a delete without backup", (s) => (s.aegirSites[1]!.tasks = s.aegirSites[1]!.tasks.filter((t) => t.type !== "backup")), /without a successful backup/],
      ["a backup before the disable only", (s) => (s.aegirSites[1]!.tasks[2]!.nid = 21.5), /without a successful backup/],
      ["a delete of a kept site", (s) => (s.opsSites[0]!.deletedAt = null), /never deleted/],
      ["a delete before the HostedSite's deletion", (s) => (s.opsSites[0]!.deletedAt = 5_000_000), /before its HostedSite was deleted/],
      ["a write by the old leader", (s) => s.writes.push({ at: 250, via: "ssh", what: "pm-enable", identity: "a" }), /a wrote .* held by b/],
      ["a write nobody sent", (s) => s.writes.push({ at: 250, via: "api", what: "patch", identity: undefined }), /no known replica/],
    ];
    for (const [what, mutate, expected] of cases) {
      const s = base();
      mutate(s);
      const found = [...convergenceViolations(s), ...safetyViolations(s)];
      expect(found.join("\n"), what).toMatch(expected);
    }
  });
});

describe.skipIf(!canAttributeSockets())("chaos: the whole system under seeded faults", () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: nothing paid is lost, nothing is done twice, one leader acts`, { timeout: 240_000 }, async () => {
      const schedule = makeSchedule(seed, QUICK);
      const report = await runSchedule(schedule);
      const detail = `${describeSchedule(schedule)}\nviolations:\n${report.violations.join("\n")}\n${report.logs.join("\n")}\nreplay: npm run chaos -- --seed ${seed} --quick`;
      expect(report.violations, detail).toEqual([]);
      expect(report.convergedMs).not.toBeNull();
      expect(report.writesChecked).toBeGreaterThan(0);
      expect(Object.values(report.injected).reduce((a, b) => a + b, 0)).toBeGreaterThan(3);
    });
  }
});
