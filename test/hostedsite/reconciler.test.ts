import { describe, expect, it } from "vitest";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { CREATE_PENDING_ANNOTATION, FINALIZER } from "../../reconcilers/hostedsite/names.ts";
import { addUser } from "../harness/aegir/drupal.ts";
import { hostedSite } from "./fixtures.ts";
import { PLATFORM, Rig, TRACKER } from "./harness.ts";

const order = () =>
  hostedSite({
    domain: "acme.sites.example.com",
    features: ["oa_wiki", "oa_markdown"],
    theme: "oa_radix",
    userQuota: 25,
    https: "Enabled",
    aliases: ["www.acme.example.com"],
    support: { tier: "Standard", hours: "8x5", channels: ["email"] },
    owner: { email: "jane@acme.example.com", name: "jane" },
  });

describe("HostedSite reconciler against the simulated Aegir", () => {
  it("converges a new order to Ready, every part of it", async () => {
    const rig = new Rig(order());
    await rig.converge();
    const site = rig.sim.site("acme.sites.example.com")!;
    const drupal = site.drupal!;
    expect(rig.sim.siteNodes("acme.sites.example.com")).toHaveLength(1);
    expect(drupal.modules).toEqual(expect.arrayContaining(["oa_wiki", "oa_markdown", "user_limit"]));
    expect(drupal.variables.get("theme_default")).toBe("oa_radix");
    expect(drupal.variables.get("user_limit")).toBe(25);
    expect(site.applied).toEqual({ aliases: ["www.acme.example.com"], https: 1 });
    const jane = [...drupal.users.values()].find((u) => u.name === "jane")!;
    expect(jane.uid).toBeGreaterThan(1);
    expect(jane.roles).toEqual(["manager"]);
    expect(drupal.outbox.filter((m) => m.kind === "register_admin_created")).toEqual([expect.objectContaining({ to: "jane@acme.example.com", uid: jane.uid })]);
    const tracker = [...rig.sim.site(TRACKER)!.drupal!.users.values()].find((u) => u.mail === "jane@acme.example.com")!;
    expect(tracker.roles).toEqual(["customer standard"]);

    const status = rig.store.site.status!;
    expect(status).toMatchObject({
      server: "aegir-1",
      platform: PLATFORM,
      url: "https://acme.sites.example.com",
      owner: { name: "jane", uid: jane.uid, welcome: "Sent" },
      users: { active: 1, quota: 25 },
      appliedFeatures: ["oa_markdown", "oa_wiki"],
      support: { account: "jane.acme.example.com", role: "customer standard" },
      observedGeneration: 1,
    });
    expect(status.owner?.welcomedAt).toMatch(/Z$/);
    for (const type of ["Ready", "Synced", "Installed", "FeaturesApplied", "ThemeApplied", "QuotaEnforced", "OwnerReady", "SupportAccessReady"]) {
      expect(rig.condition(type), type).toMatchObject({ status: "True", observedGeneration: 1 });
    }
    expect(rig.store.site.metadata.finalizers).toEqual([FINALIZER]);
    expect(rig.store.site.metadata.annotations?.[CREATE_PENDING_ANNOTATION]).toBeUndefined();
    expect(rig.events).toEqual(["Normal SiteReady: https://acme.sites.example.com is up as ordered"]);
  });

  it("costs one command per server poll once converged, and deep-reads only at the drift check", async () => {
    const rig = new Rig(order());
    await rig.converge();
    rig.advance(60_000);
    let mark = rig.sim.stats.records.length;
    const statusWrites = rig.store.writes.status;
    await rig.reconcile();
    expect(rig.sim.stats.records.slice(mark).map((r) => r.name)).toEqual(["php-eval:server-status"]);
    expect(rig.store.writes.status).toBe(statusWrites);
    rig.advance(1_800_000);
    mark = rig.sim.stats.records.length;
    await rig.reconcile();
    expect(rig.sim.stats.records.slice(mark).map((r) => r.name)).toEqual(["php-eval:server-status", "php-eval:site-state", "php-eval:find-account"]);
    expect(rig.writesSince(mark)).toBe(0);
  });

  it("follows spec changes: features added and removed, theme, quota and support tier", async () => {
    const rig = new Rig(order());
    await rig.converge();
    rig.store.editSpec((spec) => {
      spec.features = ["oa_wiki", "oa_events"];
      spec.theme = "oa_corporate";
      spec.userQuota = 50;
      spec.support = { tier: "Premium", hours: "24x7", channels: ["email", "phone"] };
    });
    await rig.converge();
    const drupal = rig.sim.site("acme.sites.example.com")!.drupal!;
    expect(drupal.modules).toContain("oa_events");
    expect(drupal.modules).not.toContain("oa_markdown");
    expect(drupal.modules).toContain("oa_core");
    expect(drupal.variables.get("theme_default")).toBe("oa_corporate");
    expect(drupal.variables.get("user_limit")).toBe(50);
    const tracker = [...rig.sim.site(TRACKER)!.drupal!.users.values()].find((u) => u.mail === "jane@acme.example.com")!;
    expect(tracker.roles).toEqual(["customer premium"]);
    expect(rig.condition("Ready")).toMatchObject({ status: "True", observedGeneration: 2 });
    expect(drupal.outbox.filter((m) => m.kind === "register_admin_created")).toHaveLength(1);
  });

  it("disables a suspended site, keeps its data, and enables it again", async () => {
    const rig = new Rig(order());
    await rig.converge();
    rig.store.editSpec((spec) => (spec.suspended = true));
    for (let i = 0; i < 4; i++) {
      await rig.reconcile();
      rig.advance(5_000);
    }
    expect(rig.sim.site("acme.sites.example.com")!.status).toBe(-1);
    expect(rig.condition("Suspended")).toMatchObject({ status: "True", reason: "SiteDisabled" });
    expect(rig.condition("Ready")).toMatchObject({ status: "False", reason: "Suspended" });
    expect(rig.sim.site("acme.sites.example.com")!.drupal).toBeDefined();
    rig.store.editSpec((spec) => (spec.suspended = false));
    await rig.converge();
    expect(rig.sim.site("acme.sites.example.com")!.status).toBe(1);
  });

  it("expires exactly at expiresAt: disables the site and ends support access", async () => {
    const rig = new Rig(hostedSite({ expiresAt: "2027-03-01T12:00:00Z" }));
    await rig.converge();
    const result = await rig.reconcile();
    expect(rig.now.getTime() + result.requeueAfterMs!).toBeLessThanOrEqual(Date.parse("2027-03-01T12:00:00Z"));
    rig.now = new Date("2027-03-01T12:00:00Z");
    for (let i = 0; i < 4; i++) {
      await rig.reconcile();
      rig.advance(5_000);
    }
    expect(rig.sim.site("acme.sites.example.com")!.status).toBe(-1);
    expect(rig.condition("Expired")).toMatchObject({ status: "True", reason: "Expired" });
    const tracker = [...rig.sim.site(TRACKER)!.drupal!.users.values()].find((u) => u.mail === "jane@acme.example.com")!;
    expect(tracker.roles).toEqual([]);
  });

  it("deletes with policy Delete: disable, backup, delete, then the finalizer goes", async () => {
    const rig = new Rig(order());
    await rig.converge();
    rig.store.markDeleted(rig.now);
    for (let i = 0; i < 8 && !rig.store.gone; i++) {
      await rig.reconcile();
      rig.advance(5_000);
    }
    expect(rig.store.gone).toBe(true);
    const [node] = rig.sim.siteNodes("acme.sites.example.com");
    expect(node!.status).toBe(-2);
    const taskTypes = [...rig.sim.hostmaster.tasks.values()].filter((t) => t.rid === node!.nid).map((t) => t.type);
    expect(taskTypes.slice(-3)).toEqual(["disable", "backup", "delete"]);
    expect(node!.backups.length).toBeGreaterThanOrEqual(1);
  });

  it("keeps the Aegir site with policy Retain", async () => {
    const rig = new Rig(hostedSite({ deletionPolicy: "Retain" }));
    await rig.converge();
    rig.store.markDeleted(rig.now);
    await rig.reconcile(); // takes the support role away
    expect(rig.store.gone).toBe(false);
    await rig.reconcile(); // sees it gone, releases
    expect(rig.store.gone).toBe(true);
    expect(rig.sim.site("acme.sites.example.com")!.status).toBe(1);
    const tracker = [...rig.sim.site(TRACKER)!.drupal!.users.values()].find((u) => u.mail === "jane@acme.example.com")!;
    expect(tracker.roles).toEqual([]);
  });

  it("ends a permanent error in a clear condition without retrying it each poll", async () => {
    const rig = new Rig(hostedSite({ features: ["oa_wiki", "oa_not_on_platform"] }));
    for (let i = 0; i < 8; i++) {
      await rig.reconcile();
      rig.advance(5_000);
    }
    expect(rig.condition("FeaturesApplied")).toMatchObject({ status: "False", reason: "ModuleNotOnPlatform" });
    expect(rig.condition("FeaturesApplied")?.message).toContain("oa_not_on_platform");
    expect(rig.condition("Ready")).toMatchObject({ status: "False", reason: "ModuleNotOnPlatform" });
    const tries = rig.sim.stats.count("pm-enable");
    for (let i = 0; i < 5; i++) {
      rig.advance(60_000);
      await rig.reconcile();
    }
    expect(rig.sim.stats.count("pm-enable")).toBe(tries);
    rig.store.editSpec((spec) => (spec.features = ["oa_wiki"]));
    await rig.converge();
  });

  it("never installs twice when the create call's connection drops after Aegir acted", async () => {
    const rig = new Rig(order());
    rig.sim.faults.drop({ match: { command: "php-eval:create-site" }, applied: true });
    await rig.reconcile();
    rig.restart();
    await rig.converge();
    expect(rig.sim.siteNodes("acme.sites.example.com")).toHaveLength(1);
  });

  it("retries a create that never reached Aegir only after the settle time", async () => {
    const rig = new Rig(order());
    rig.sim.faults.drop({ match: { command: "php-eval:create-site" }, applied: false });
    await rig.reconcile();
    rig.restart();
    rig.advance(60_000);
    const mark = rig.sim.stats.records.length;
    await rig.reconcile();
    expect(rig.sim.stats.records.slice(mark).map((r) => r.name)).toEqual(["php-eval:server-status"]);
    expect(rig.condition("Installed")).toMatchObject({ status: "False", reason: "Creating" });
    rig.advance(600_000);
    await rig.converge();
    expect(rig.sim.siteNodes("acme.sites.example.com")).toHaveLength(1);
  });

  it("reads the site again after a status write that failed, instead of trusting the stored conditions", async () => {
    const rig = new Rig(order());
    // Every status write of the reconciles that do the work fails (a conflict with a newer object).
    let failing = true;
    rig.store.beforeWrite = (kind) => {
      if (failing && kind === "status" && rig.sim.stats.count("php-eval:welcome-mail") > 0) throw new Error("409 Conflict");
    };
    for (let i = 0; i < 12 && rig.sim.stats.count("php-eval:welcome-mail") === 0; i++) {
      await rig.reconcile().catch(() => undefined);
      rig.sim.drainTasks();
      rig.advance(5_000);
    }
    await rig.reconcile().catch(() => undefined);
    failing = false;
    // Same reconciler (same memory): the next reconciles must reach Ready from a fresh read.
    await rig.converge(4);
    expect(rig.condition("OwnerReady")).toMatchObject({ status: "True" });
  });

  it("sends the welcome mail once even when the connection drops after the site sent it", async () => {
    const rig = new Rig(order());
    rig.sim.faults.drop({ match: { command: "php-eval:welcome-mail" }, applied: true });
    for (let i = 0; i < 6; i++) {
      await rig.reconcile();
      rig.advance(5_000);
    }
    rig.restart();
    await rig.converge();
    const drupal = rig.sim.site("acme.sites.example.com")!.drupal!;
    expect(drupal.outbox.filter((m) => m.kind === "register_admin_created")).toHaveLength(1);
    expect(rig.sim.stats.count("php-eval:welcome-mail")).toBe(1);
  });

  it("adopts the owner account another run created first instead of blocking on UserExists", async () => {
    const rig = new Rig(order());
    rig.sim.faults.failNext({ match: { command: "user-create" }, exitCode: 1, stderr: "There is already a user account with the email jane@acme.example.com [error]\n" });
    for (let i = 0; i < 40 && rig.sim.stats.count("user-create") === 0; i++) {
      await rig.reconcile();
      rig.advance(5_000);
    }
    expect(rig.condition("OwnerReady")).toMatchObject({ status: "False", reason: "Applying" }); // retried, not blocked
    // What that error meant: a second controller (or a reply lost on the way) created the account.
    addUser(rig.sim.site("acme.sites.example.com")!.drupal!, { name: "jane", mail: "jane@acme.example.com", now: rig.now.getTime() });
    const before = rig.now.getTime();
    await rig.converge();
    expect(rig.now.getTime() - before).toBeLessThan(60_000);
    expect([...rig.sim.site("acme.sites.example.com")!.drupal!.users.values()].filter((u) => u.mail === "jane@acme.example.com")).toHaveLength(1);
  });

  it("adopts the support account another replica created first instead of blocking on UserExists", async () => {
    const rig = new Rig(order());
    const tracker = { command: "user-create", alias: "@support.example.com" };
    rig.sim.faults.failNext({ match: tracker, exitCode: 1, stderr: "There is already a user account with the email jane@acme.example.com [error]\n" });
    for (let i = 0; i < 40 && !rig.sim.stats.records.some((r) => r.name === "user-create" && r.alias === tracker.alias); i++) {
      await rig.reconcile();
      rig.advance(5_000);
    }
    expect(rig.condition("SupportAccessReady")).toMatchObject({ status: "False", reason: "Applying" }); // retried, not blocked
    addUser(rig.sim.site("support.example.com")!.drupal!, { name: "jane.acme.example.com", mail: "jane@acme.example.com", now: rig.now.getTime() });
    const before = rig.now.getTime();
    await rig.converge();
    expect(rig.now.getTime() - before).toBeLessThan(60_000);
    expect([...rig.sim.site("support.example.com")!.drupal!.users.values()].filter((u) => u.mail === "jane@acme.example.com")).toHaveLength(1);
  });

  it("takes the site another replica created first instead of blocking on SiteExists", async () => {
    const rig = new Rig(order());
    // Our create is refused because a second controller, whose status was fresher, created it a moment ago.
    rig.sim.faults.failNext({ match: { command: "php-eval:create-site" }, exitCode: 1, stderr: "Site acme.sites.example.com already exists. [error]\n" });
    await rig.reconcile();
    expect(rig.sim.stats.count("php-eval:create-site")).toBe(1);
    expect(rig.condition("Ready")).not.toMatchObject({ reason: "SiteExists" });
    await new AegirDriver({ runner: rig.sim.runner() }).createSite({ uri: "acme.sites.example.com", platform: PLATFORM, profile: "openatrium", aliases: [], https: "Disabled" });
    const before = rig.now.getTime();
    await rig.converge();
    expect(rig.now.getTime() - before).toBeLessThan(10 * 60_000);
    expect(rig.sim.stats.count("php-eval:create-site")).toBe(2);
  });

  it("refuses to change the server a site lives on", async () => {
    const rig = new Rig(order());
    await rig.converge();
    rig.store.editSpec((spec) => (spec.server = "aegir-2"));
    await rig.reconcile();
    expect(rig.condition("Ready")).toMatchObject({ status: "False", reason: "ServerChangeNotSupported" });
  });
});
