// The conformance checks as pure judgements of an observation, and the AegirServer condition
// they feed; the same checks run end to end in test/cli/check-server.test.ts.
import { describe, expect, it } from "vitest";
import { conformanceCondition, evaluate, missingExtensions } from "../../reconcilers/aegir/conformance/checks.ts";
import { sellableByProfile } from "../../webhook/catalog-sellable.ts";
import type { HostmasterProbe, Observation } from "../../reconcilers/aegir/conformance/probe.ts";
import { AegirError } from "../../reconcilers/aegir/errors.ts";
import type { ServerStatus } from "../../reconcilers/aegir/state.ts";
import { ConformanceMonitor } from "../../reconcilers/aegirserver/conformance.ts";
import { AegirServerReconciler } from "../../reconcilers/aegirserver/reconciler.ts";
import { ServerStatusCache } from "../../reconcilers/hostedsite/server-status-cache.ts";
import { createLogger } from "../../common/logger.ts";
import type { AegirServerStatus } from "../../crds/aegirserver.ts";
import { parseCatalog } from "../../webhook/catalog.ts";
import { aegirServer } from "../hostedsite/fixtures.ts";

const NOW = 1_800_000_000;
const status: ServerStatus = {
  sites: [{ nid: 9, uri: "a.example.com", status: "enabled", verified: 0, platform: "platform_oa", profile: "openatrium", aliases: [], https: "Disabled", tasks: [] }],
  platforms: [{ name: "platform_oa", status: 1, profiles: ["openatrium"] }],
  queue: { queued: 0, processing: 0 },
  https: true,
};
const probe = (over: Partial<HostmasterProbe> = {}): HostmasterProbe => ({
  nonce: "n1",
  user: "aegir",
  modules: { hosting_alias: true, hosting_https: true, hosting_queued: true },
  queue: { daemonStarted: NOW - 600, dispatchEnabled: false, tasksEnabled: true },
  now: NOW,
  stuck: [],
  platforms: [{ name: "platform_oa", exists: true, root: "/var/aegir/platforms/oa", status: 1, modules: { user_limit: [], oa_wiki: ["oa_core"], oa_core: ["ctools"], ctools: [] }, themes: ["oa_theme"] }],
  ...over,
});
const observation = (over: Partial<Observation> = {}): Observation => ({
  drushVersion: { ok: true, value: "8.4.12" },
  serverStatus: { ok: true, value: status },
  nonce: "n1",
  hostmaster: { ok: true, value: probe() },
  roles: { platform_oa: { ok: true, value: { site: "a.example.com", roles: ["authenticated user", "manager"] } } },
  ...over,
});
const spec = aegirServer().spec;
const sellable = new Map([["openatrium", { features: new Set(["oa_wiki"]), themes: new Set(["oa_theme"]) }]]);
const statuses = (o: Observation) => Object.fromEntries(evaluate(spec, sellable, o).map((r) => [r.id, r.status]));
const row = (o: Observation, id: string) => evaluate(spec, sellable, o).find((r) => r.id === id);

describe("conformance checks", () => {
  it("pass a healthy server; the test mail is skipped unless asked for", () => {
    const s = statuses(observation());
    expect(Object.entries(s).filter(([, v]) => v !== "pass")).toEqual([["mail", "skip"]]);
  });

  it("name the remedy for a key the server refuses, and skip the rest", () => {
    const rows = evaluate(spec, sellable, observation({ drushVersion: { ok: false, error: new AegirError("AuthenticationFailed", "127.0.0.1 refused the private key") } }));
    expect(rows[0]).toMatchObject({ id: "ssh", status: "fail", remedy: "add the public half of the operator's key to ~aegir/.ssh/authorized_keys on the server" });
    expect(rows.slice(1).map((r) => r.status)).toEqual(rows.slice(1).map(() => "skip"));
  });

  it("fail drush that is missing, not only drush of another version", () => {
    const r = row(observation({ drushVersion: { ok: false, error: new AegirError("DrushFailed", "drush version exited with status 127: sh: 1: drush: not found") } }), "drush");
    expect(r).toMatchObject({ status: "fail", remedy: "install drush 8 on the server, or set spec.drushPath to it (now drush)" });
    expect(row(observation({ drushVersion: { ok: false, error: new AegirError("DrushFailed", "x") } }), "ssh")?.status).toBe("pass");
  });

  it("fail when the probe does not echo the nonce sent on stdin", () => {
    expect(row(observation({ hostmaster: { ok: true, value: probe({ nonce: "" }) } }), "stdin")).toMatchObject({ status: "fail", detail: "the probe did not echo the input it was sent" });
  });

  it("judge the task queue: daemon, cron dispatch, neither, and stuck tasks", () => {
    const q = (queue: HostmasterProbe["queue"], modules = probe().modules) => row(observation({ hostmaster: { ok: true, value: probe({ queue, modules }) } }), "queue");
    expect(q({ daemonStarted: NOW - 3 * 3600, dispatchEnabled: false, tasksEnabled: true })).toMatchObject({ status: "fail", detail: "hosting_queued is enabled but its daemon has not started for hours" });
    expect(q({ daemonStarted: 0, dispatchEnabled: true, tasksEnabled: true })?.status).toBe("pass");
    expect(q({ daemonStarted: NOW, dispatchEnabled: true, tasksEnabled: false })?.status).toBe("fail");
    const stuck = row(observation({ hostmaster: { ok: true, value: probe({ stuck: [{ nid: 77, type: "install", status: -1, since: NOW - 6 * 3600 }] }) } }), "stuck");
    expect(stuck).toMatchObject({ status: "fail", detail: "task 77 (install) processing for 6 h" });
  });

  it("judge platforms: locked, wrong profile, missing role, no site to read roles from", () => {
    const locked = observation({ serverStatus: { ok: true, value: { ...status, platforms: [{ name: "platform_oa", status: -1, profiles: ["openatrium"] }] } } });
    expect(row(locked, "platform:platform_oa")?.detail).toBe("locked or not enabled in Aegir");
    const noProfile = observation({ serverStatus: { ok: true, value: { ...status, platforms: [{ name: "platform_oa", status: 1, profiles: ["standard"] }] } } });
    expect(row(noProfile, "platform:platform_oa")?.detail).toBe("profiles: standard");
    const noRole = observation({ roles: { platform_oa: { ok: true, value: { site: "a.example.com", roles: ["authenticated user", "administrator"] } } } });
    expect(row(noRole, "role:platform_oa")).toMatchObject({ status: "fail", detail: "a.example.com has authenticated user, administrator" });
    expect(row(observation({ roles: { platform_oa: { ok: true, value: null } } }), "role:platform_oa")?.status).toBe("warn");
  });

  it("report the mail outcome when one was sent", () => {
    expect(row(observation({ mail: { ok: true, value: false } }), "mail")).toMatchObject({ status: "fail", detail: "Drupal's mail system refused the test mail" });
  });
});

describe("missingExtensions", () => {
  it("follows dependencies transitively and groups the missing ones", () => {
    const modules = { a: ["b"], b: ["c", "d"], e: ["d"] };
    expect(missingExtensions(modules, ["t1"], ["a", "e", "x"], ["t1", "t2"])).toEqual([
      "module(s) not on the platform: x",
      "dependency c not on the platform (needed by a)",
      "dependency d not on the platform (needed by a, e)",
      "theme(s) not on the platform: t2",
    ]);
  });
});

describe("sellableByProfile", () => {
  it("sells a kit's features on its profile and add-ons on every kit's profile", () => {
    const catalog = parseCatalog(
      `managedZone: sites.example.com
kits:
  a: { profile: openatrium, features: [oa_wiki], userQuota: 5, support: { tier: Basic, hours: 8x5, channels: [forum] } }
  b: { profile: standard, theme: bartik, userQuota: 5, support: { tier: Basic, hours: 8x5, channels: [forum] } }
items:
  a_monthly: { kit: a }
  addon: { features: [forum] }
  theme_x: { theme: oa_radix }
`,
      "test",
    );
    const s = sellableByProfile(catalog);
    expect([...(s.get("openatrium")?.features ?? [])].sort()).toEqual(["forum", "oa_wiki"]);
    expect([...(s.get("standard")?.themes ?? [])].sort()).toEqual(["bartik", "oa_radix"]);
  });
});

describe("the Conformant condition", () => {
  it("lists the failed checks, and is re-probed only on a spec change or after the interval", async () => {
    let now = 0;
    let probes = 0;
    let next = observation();
    const monitor = new ConformanceMonitor({ probe: () => (probes++, Promise.resolve(next)), now: () => now, intervalMs: 1_000 });
    const server = aegirServer();
    expect(await monitor.condition(server)).toMatchObject({ type: "Conformant", status: "True", reason: "AllChecksPassed" });
    next = observation({ hostmaster: { ok: true, value: probe({ modules: { hosting_alias: true, hosting_https: false, hosting_queued: true } }) } });
    expect((await monitor.condition(server)).status).toBe("True");
    now = 1_000;
    expect(await monitor.condition(server)).toMatchObject({ status: "False", reason: "ChecksFailed", message: "hosting module hosting_https enabled: not enabled on the hostmaster" });
    await monitor.condition({ ...server, metadata: { ...server.metadata, generation: 2 } });
    expect(probes).toBe(3);
  });

  it("keeps long messages within a condition's bounds", () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: `x${i}`, check: `check ${i}`, status: "fail" as const, detail: "d".repeat(40) }));
    expect(conformanceCondition(rows).message.length).toBeLessThanOrEqual(1000);
  });
});

describe("AegirServerReconciler with the conformance checks", () => {
  it("writes the Conformant condition while reachable, and probes nothing while not", async () => {
    const writes: AegirServerStatus[] = [];
    let reachable = true;
    let probes = 0;
    const failing = observation({ hostmaster: { ok: true, value: probe({ stuck: [{ nid: 5, type: "verify", status: 0, since: NOW - 5 * 3600 }] }) } });
    const reconciler = new AegirServerReconciler({
      store: { updateStatus: (s, st) => (writes.push(st), Promise.resolve({ ...s, status: st })) },
      statusCache: new ServerStatusCache({ fetch: () => (reachable ? Promise.resolve(status) : Promise.reject(new AegirError("ConnectionRefused", "refused"))), now: () => 0, maxAgeMs: 0 }),
      conformance: new ConformanceMonitor({ probe: () => (probes++, Promise.resolve(failing)), now: () => 0 }),
      now: () => new Date("2027-03-01T09:00:00Z"),
      log: createLogger({ name: "test", level: "silent" }),
    });
    await reconciler.reconcile(aegirServer());
    expect(writes[0]?.conditions?.find((c) => c.type === "Conformant")).toMatchObject({ status: "False", reason: "ChecksFailed", message: "no task stuck for hours: task 5 (verify) queued for 5 h" });
    reachable = false;
    await reconciler.reconcile(aegirServer("aegir-2"));
    expect(probes).toBe(1);
    expect(writes[1]?.conditions?.map((c) => c.type)).toEqual(["Reachable", "Ready"]);
  });
});
