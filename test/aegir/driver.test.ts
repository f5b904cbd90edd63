// The driver against the simulated Aegir, in-process: one test per method, plus the error
// classification paths a reconciler depends on.
import { describe, expect, it } from "vitest";
import { AegirDriver, type NewSite } from "../../reconcilers/aegir/driver.ts";
import { AegirError } from "../../reconcilers/aegir/errors.ts";
import type { CommandRunner } from "../../reconcilers/aegir/runner.ts";
import { lastTask, pendingTask } from "../../reconcilers/aegir/state.ts";
import { drupalPlatform, openAtriumPlatform } from "../harness/aegir/index.ts";
import { OWNER, installedSite, simulated } from "./setup.ts";

async function rejection(promise: Promise<unknown>): Promise<AegirError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof AegirError)) throw new Error(`expected an AegirError, got ${String(error)}`);
  return error;
}

describe("reads", () => {
  it("serverStatus returns every site, platform and the queue in one command", async () => {
    const { sim, driver } = simulated({ sites: [{ uri: "support.example.com" }] });
    await installedSite(sim, driver, "a.example.com");
    await installedSite(sim, driver, "b.example.com");
    sim.stats.reset();
    const status = await driver.serverStatus();
    expect(sim.stats.counts()).toMatchObject({ total: 1, reads: 1, writes: 0, byName: { "php-eval:server-status": 1 } });
    // The hostmaster's own site node is a site like any other in Aegir.
    expect(status.sites.map((s) => s.uri)).toEqual(["aegir.example.com", "support.example.com", "a.example.com", "b.example.com"]);
    const a = status.sites.find((s) => s.uri === "a.example.com");
    expect(a).toMatchObject({ status: "enabled", platform: "platform_openatrium2652", profile: "openatrium", https: "Disabled" });
    expect(a && lastTask(a, "install")?.status).toBe("succeeded");
    expect(status.platforms).toEqual([
      { name: "platform_hostmaster", status: 1, profiles: ["hostmaster"] },
      { name: "platform_openatrium2652", status: 1, profiles: ["minimal", "openatrium", "standard"] },
    ]);
    expect(status.queue).toEqual({ queued: 0, processing: 0 });
  });

  it("siteState reads modules, theme, quota, roles, users and the owner in one command", async () => {
    const { sim, driver } = simulated();
    const uri = await installedSite(sim, driver);
    await driver.createUser(`@${uri}`, OWNER.name, OWNER.mail);
    await driver.setVariable(uri, "user_limit", 10);
    sim.stats.reset();
    const state = await driver.siteState(uri, OWNER);
    expect(sim.stats.count()).toBe(1);
    expect(state.modules).toEqual(expect.arrayContaining(["oa_core", "oa_wiki", "openatrium"]));
    expect(state.modules).not.toContain("oa_analytics");
    expect(state).toMatchObject({ theme: "oa_theme", themes: ["oa_theme"], userLimit: 10, roles: ["authenticated user", "administrator", "editor"], activeUsers: 1, welcome: {} });
    expect(state.owner).toEqual({ uid: 2, name: "jane", mail: "jane@example.com", status: "active", roles: [] });
  });

  it("findAccount finds by name, else by mail, else null", async () => {
    const { driver } = simulated({
      platforms: [openAtriumPlatform(), drupalPlatform()],
      sites: [{ uri: "support.example.com", platform: "platform_drupal759", roles: ["support basic"], users: [{ name: "jane", mail: "jane@example.com", roles: ["support basic"] }] }],
    });
    expect(await driver.findAccount("@support.example.com", { name: "jane" })).toMatchObject({ uid: 2, roles: ["support basic"] });
    expect(await driver.findAccount("@support.example.com", { name: "other", mail: "jane@example.com" })).toMatchObject({ uid: 2 });
    expect(await driver.findAccount("@support.example.com", { name: "nobody" })).toBeNull();
    expect((await driver.siteState("support.example.com", { name: "jane", mail: "" })).roles).toEqual(["authenticated user", "administrator", "support basic"]);
  });
});

describe("hostmaster writes", () => {
  it("createSite creates the node and queues its install; the install enables the site", async () => {
    const { sim, driver } = simulated({ autoRunTasks: false });
    const created = await driver.createSite({ uri: "acme.example.com", platform: "platform_openatrium2652", profile: "openatrium", aliases: ["www.acme.example.com"], https: "Required" });
    let site = (await driver.serverStatus()).sites.find((s) => s.uri === "acme.example.com");
    expect(site).toMatchObject({ nid: created.nid, status: "queued", aliases: ["www.acme.example.com"], https: "Required", verified: 0 });
    expect(site && pendingTask(site)).toMatchObject({ nid: created.task, type: "install", status: "queued" });
    sim.drainTasks();
    site = (await driver.serverStatus()).sites.find((s) => s.uri === "acme.example.com");
    expect(site?.status).toBe("enabled");
    expect(sim.site("acme.example.com")?.drupal?.users.get(1)).toMatchObject({ name: "admin", mail: "aegir@aegir.example.com" });
  });

  it("createSite refuses a second site with the same URI (SiteExists)", async () => {
    const { sim, driver } = simulated();
    await installedSite(sim, driver);
    const error = await rejection(installedSite(sim, driver));
    expect(error).toMatchObject({ reason: "SiteExists", kind: "permanent", command: "php-eval:create-site" });
  });

  it("createSite reports UnknownPlatform and ProfileNotOnPlatform", async () => {
    const { driver, sim } = simulated();
    expect(await rejection(driver.createSite({ uri: "x.example.com", platform: "platform_nope", profile: "openatrium", aliases: [], https: "Disabled" }))).toMatchObject({ reason: "UnknownPlatform" });
    expect(await rejection(driver.createSite({ uri: "x.example.com", platform: "platform_openatrium2652", profile: "commons", aliases: [], https: "Disabled" }))).toMatchObject({ reason: "ProfileNotOnPlatform" });
    expect(sim.site("x.example.com")).toBeUndefined();
  });

  it("updateSite saves the node, which queues the verify that applies aliases and https", async () => {
    const { sim, driver } = simulated();
    const uri = await installedSite(sim, driver);
    const { task } = await driver.updateSite(uri, { aliases: ["www.acme.example.com"], https: "Enabled" });
    expect(sim.hostmaster.tasks.get(task)).toMatchObject({ type: "verify", status: 0 });
    expect(sim.site(uri)?.applied).toEqual({ aliases: [], https: 0 });
    sim.drainTasks();
    expect(sim.site(uri)?.applied).toEqual({ aliases: ["www.acme.example.com"], https: 1 });
  });

  it("queueTask refuses while the site has a pending task (TaskPending, transient)", async () => {
    const { driver } = simulated({ autoRunTasks: false });
    await driver.createSite({ uri: "acme.example.com", platform: "platform_openatrium2652", profile: "openatrium", aliases: [], https: "Disabled" });
    const error = await rejection(driver.queueTask("acme.example.com", "verify"));
    expect(error).toMatchObject({ reason: "TaskPending", transient: true });
  });

  it("queueTask on an unknown site is UnknownSite; migrate to an unknown platform is UnknownPlatform", async () => {
    const { sim, driver } = simulated();
    expect(await rejection(driver.queueTask("nope.example.com", "verify"))).toMatchObject({ reason: "UnknownSite" });
    const uri = await installedSite(sim, driver);
    expect(await rejection(driver.queueTask(uri, "migrate", { targetPlatform: "platform_nope" }))).toMatchObject({ reason: "UnknownPlatform" });
  });

  it("disable and enable flip the site's status", async () => {
    const { sim, driver } = simulated();
    const uri = await installedSite(sim, driver);
    await driver.queueTask(uri, "disable");
    sim.drainTasks();
    expect(sim.site(uri)?.status).toBe(-1);
    await driver.queueTask(uri, "enable");
    sim.drainTasks();
    expect(sim.site(uri)?.status).toBe(1);
  });

  it("backup records a backup file per run", async () => {
    const { sim, driver } = simulated();
    const uri = await installedSite(sim, driver);
    await driver.queueTask(uri, "backup");
    sim.drainTasks();
    await driver.queueTask(uri, "backup");
    sim.drainTasks();
    const files = sim.site(uri)?.backups.map((b) => b.file) ?? [];
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^\/var\/aegir\/backups\/acme\.example\.com-\d{8}\.\d{6}\.tar\.gz$/);
    expect(new Set(files).size).toBe(2);
  });

  it("delete backs the site up first, then marks it deleted and removes its alias", async () => {
    const { sim, driver } = simulated();
    const uri = await installedSite(sim, driver);
    const { nid } = await driver.queueTask(uri, "delete");
    sim.drainTasks();
    const [node] = sim.siteNodes(uri);
    expect(node).toMatchObject({ status: -2, drupal: undefined });
    expect(node?.backups).toEqual([expect.objectContaining({ task: nid })]);
    expect(sim.hostmaster.tasks.get(nid)?.log.map((l) => l.message)).toEqual([expect.stringMatching(/^Backed up/), `Deleted site ${uri}.`]);
    expect((await driver.serverStatus()).sites.find((s) => s.uri === uri)?.status).toBe("deleted");
    expect(await rejection(driver.siteState(uri, OWNER))).toMatchObject({ reason: "UnknownSite" });
    // The context is gone: the URI can be sold again.
    await installedSite(sim, driver, uri);
    expect(sim.siteNodes(uri).map((s) => s.status)).toEqual([-2, 1]);
  });

  it("migrate moves the site to another platform after a backup", async () => {
    const { sim, driver } = simulated({ platforms: [openAtriumPlatform(), openAtriumPlatform({ name: "platform_openatrium2653" })] });
    const uri = await installedSite(sim, driver);
    await driver.queueTask(uri, "migrate", { targetPlatform: "platform_openatrium2653" });
    sim.drainTasks();
    expect((await driver.serverStatus()).sites.find((s) => s.uri === uri)).toMatchObject({ platform: "platform_openatrium2653", status: "enabled" });
    expect(sim.site(uri)?.backups).toHaveLength(1);
  });

  it("migrate sends new_uri and new_db_server as Aegir's migrate form does", async () => {
    const { sim, driver } = simulated({ platforms: [openAtriumPlatform(), openAtriumPlatform({ name: "platform_openatrium2653" })] });
    const uri = await installedSite(sim, driver);
    const { nid } = await driver.queueTask(uri, "migrate", { targetPlatform: "platform_openatrium2653" });
    const site = sim.site(uri);
    expect(sim.hostmaster.tasks.get(nid)?.args).toEqual({ target_platform: sim.hostmaster.context("platform_openatrium2653"), new_uri: uri, new_db_server: site?.dbServer });
    sim.drainTasks();
    expect(sim.site(uri)?.uri).toBe(uri);
  });

  it("a migrate task without new_uri fails in Aegir (hosting_migrate loses the context)", async () => {
    const { sim, driver } = simulated({ platforms: [openAtriumPlatform(), openAtriumPlatform({ name: "platform_openatrium2653" })] });
    const uri = await installedSite(sim, driver);
    const site = sim.site(uri);
    const task = sim.tasks.add(site?.nid ?? 0, "migrate", { target_platform: sim.hostmaster.context("platform_openatrium2653") ?? 0 });
    sim.drainTasks();
    expect(sim.hostmaster.tasks.get(task.nid)?.status).toBe(2);
    expect((await driver.serverStatus()).sites.find((s) => s.uri === uri)?.platform).toBe("platform_openatrium2652");
  });

  it.each([
    ["the hostmaster's own domain as URI", { uri: "aegir.example.com", aliases: [] }, "aegir.example.com"],
    ["another site's alias as URI", { uri: "www.acme.example.com", aliases: [] }, "www.acme.example.com"],
    ["another site's URI as alias", { uri: "new.example.com", aliases: ["acme.example.com"] }, "acme.example.com"],
  ])("create-site refuses %s: permanent DomainTaken naming the domain, no second node", async (_label, site, domain) => {
    const { sim, driver } = simulated({ sites: [{ uri: "acme.example.com", aliases: ["www.acme.example.com"] }] });
    const before = sim.hostmaster.sites.size;
    const error = await rejection(driver.createSite({ ...site, platform: "platform_openatrium2652", profile: "openatrium", https: "Disabled" }));
    expect(error).toMatchObject({ reason: "DomainTaken", kind: "permanent", message: `Domain ${domain} is already in use by another site.` });
    expect(sim.hostmaster.sites.size).toBe(before);
  });

  it("update-site refuses an alias that is another site's URI, but keeps the site's own", async () => {
    const { sim, driver } = simulated({ sites: [{ uri: "other.example.com" }] });
    const uri = await installedSite(sim, driver);
    await driver.updateSite(uri, { aliases: [`www.${uri}`], https: "Disabled" });
    sim.drainTasks();
    await driver.updateSite(uri, { aliases: [`www.${uri}`], https: "Enabled" });
    sim.drainTasks();
    expect(await rejection(driver.updateSite(uri, { aliases: ["other.example.com"], https: "Disabled" }))).toMatchObject({ reason: "DomainTaken" });
  });

  it("a hostmaster without hosting_https reports https unknown (null), not Disabled", async () => {
    const { sim, driver } = simulated({ hostmaster: { https: false } });
    const uri = await installedSite(sim, driver);
    const status = await driver.serverStatus();
    expect(status.https).toBe(false);
    expect(status.sites.find((s) => s.uri === uri)?.https).toBeNull();
    expect((await simulated().driver.serverStatus()).https).toBe(true);
  });

  it("an injected install failure fails the task, rolls the site back and leaves other tasks alone", async () => {
    const { sim, driver } = simulated({ autoRunTasks: false });
    sim.faults.failTask({ type: "install", uri: "b.example.com", message: "Unable to connect to the database server." });
    await driver.createSite({ uri: "a.example.com", platform: "platform_openatrium2652", profile: "openatrium", aliases: [], https: "Disabled" });
    await driver.createSite({ uri: "b.example.com", platform: "platform_openatrium2652", profile: "openatrium", aliases: [], https: "Disabled" });
    sim.drainTasks();
    const status = await driver.serverStatus();
    expect(status.sites.filter((s) => s.uri !== "aegir.example.com").map((s) => [s.uri, s.status, lastTask(s, "install")?.status])).toEqual([
      ["a.example.com", "enabled", "succeeded"],
      ["b.example.com", "disabled", "failed"],
    ]);
    expect(sim.state().tasks.at(-1)?.log).toEqual(["[error] Unable to connect to the database server."]);
  });

  it("an install of a profile the platform lost fails the task and leaves no site", async () => {
    const { sim, driver } = simulated({ autoRunTasks: false });
    await driver.createSite({ uri: "acme.example.com", platform: "platform_openatrium2652", profile: "openatrium", aliases: [], https: "Disabled" });
    sim.hostmaster.platformByName("platform_openatrium2652")?.profiles.delete("openatrium");
    sim.drainTasks();
    const site = (await driver.serverStatus()).sites.find((s) => s.uri === "acme.example.com");
    expect(site && lastTask(site, "install")?.status).toBe("failed");
    expect(site?.status).toBe("disabled");
    expect(await rejection(driver.siteState("acme.example.com", OWNER))).toMatchObject({ reason: "UnknownSite" });
  });

  it("runTaskBeside refuses a bad nid or zone with a TypeError naming it, sending nothing", async () => {
    const { sim, driver } = simulated();
    for (const nid of [0, -3, 1.5, Number.NaN, "12" as unknown as number]) await expect(driver.runTaskBeside(nid, "pool.invalid")).rejects.toThrow(/^nid: /);
    for (const zone of ["", "pool", "pool.invalid; id", "-x.invalid", "$(id).invalid", "POOL.INVALID"]) await expect(driver.runTaskBeside(12, zone)).rejects.toThrow(/^zone: /);
    expect(sim.stats.count()).toBe(0);
  });

  it("runTaskBeside of a node that is no task is UnknownTask; on a plain site NotAHostmaster", async () => {
    const { sim, driver } = simulated({ sites: [{ uri: "support.example.com" }] });
    const site = sim.site("support.example.com")?.nid ?? 0;
    for (const nid of [site, 9_999]) expect(await rejection(driver.runTaskBeside(nid, "pool.invalid"))).toMatchObject({ reason: "UnknownTask", kind: "permanent", command: "php-eval:run-task-beside" });
    const plain = new AegirDriver({ runner: sim.runner(), hostmaster: "@support.example.com" });
    expect(await rejection(plain.runTaskBeside(site, "pool.invalid"))).toMatchObject({ reason: "NotAHostmaster" });
    expect(sim.stats.counts().byName).toEqual({ "php-eval:run-task-beside": 3 });
    expect(sim.stats.counts().writes).toBe(3);
  });
});

describe("pool work in the background", () => {
  const SPARE: NewSite = { uri: "spare-d.pool.invalid", platform: "platform_openatrium2652", profile: "openatrium", aliases: [], https: "Disabled" };
  const background = { zone: "pool.invalid" };

  it("refuses a name outside the zone, a zone that is no FQDN and other task types with a TypeError naming the field, sending nothing", async () => {
    const { sim, driver } = simulated({ sites: [{ uri: "spare-a.pool.invalid" }, { uri: "acme.example.com" }] });
    for (const uri of ["shop.example.com", "pool.invalid", "evilpool.invalid", "spare.pool.invalid.example.com"]) {
      await expect(driver.createSite({ ...SPARE, uri }, { background })).rejects.toThrow(/^uri: must be a site of the pool zone \(a name under \.pool\.invalid\)/);
      await expect(driver.queueTask(uri, "verify", { background })).rejects.toThrow(/^uri: /);
    }
    await expect(driver.queueTask("spare-a.pool.invalid", "clone", { targetPlatform: "platform_openatrium2652", newUri: "shop.example.com", background })).rejects.toThrow(/^newUri: /);
    await expect(driver.queueTask("acme.example.com", "clone", { targetPlatform: "platform_openatrium2652", newUri: "spare-c.pool.invalid", background })).rejects.toThrow(/^uri: /);
    for (const zone of ["", "pool", "pool.invalid; id", "POOL.INVALID", "$(id).invalid"]) {
      await expect(driver.createSite(SPARE, { background: { zone } })).rejects.toThrow(/^background\.zone: /);
      await expect(driver.queueTask("spare-a.pool.invalid", "delete", { background: { zone } })).rejects.toThrow(/^background\.zone: /);
    }
    for (const type of ["migrate", "backup", "disable", "enable"] as const) {
      await expect(driver.queueTask("spare-a.pool.invalid", type, { targetPlatform: "platform_openatrium2652", background })).rejects.toThrow(new RegExp(`^background: only pool work runs in the background \\(a clone, delete or verify\\), not a ${type}$`));
    }
    await expect(driver.queueTask("spare-a.pool.invalid", "migrate", { targetPlatform: "platform_openatrium2652", newUri: "spare-e.pool.invalid", background })).rejects.toThrow(TypeError);
    expect(sim.stats.count()).toBe(0);
  });

  it("the input carries the hostmaster alias and the zone; without background, no such field", async () => {
    // hosting-queued off: the plain install stays queued, so its verify is refused.
    const { sim } = simulated({ sites: [{ uri: "spare-a.pool.invalid" }], autoRunTasks: false });
    const inputs: unknown[] = [];
    const inner = sim.runner();
    const runner: CommandRunner = {
      run: (argv, options) => {
        inputs.push(JSON.parse(options?.stdin ?? "null"));
        return inner.run(argv, options);
      },
    };
    const driver = new AegirDriver({ runner, hostmaster: "@hm" });
    await expect(driver.createSite(SPARE, { background })).resolves.toMatchObject({ background: true });
    await expect(driver.queueTask("spare-a.pool.invalid", "clone", { targetPlatform: "platform_openatrium2652", newUri: "spare-c.pool.invalid", background })).resolves.toMatchObject({ background: true });
    await expect(driver.createSite({ ...SPARE, uri: "spare-e.pool.invalid" })).resolves.toMatchObject({ background: false });
    await expect(driver.queueTask("spare-e.pool.invalid", "verify")).rejects.toMatchObject({ reason: "TaskPending" });
    expect(inputs).toEqual([
      { uri: "spare-d.pool.invalid", platform: "platform_openatrium2652", profile: "openatrium", aliases: [], https: 0, background: { alias: "@hm", zone: "pool.invalid" } },
      { uri: "spare-a.pool.invalid", type: "clone", targetPlatform: "platform_openatrium2652", newUri: "spare-c.pool.invalid", background: { alias: "@hm", zone: "pool.invalid" } },
      { uri: "spare-e.pool.invalid", platform: "platform_openatrium2652", profile: "openatrium", aliases: [], https: 0 },
      { uri: "spare-e.pool.invalid", type: "verify" },
    ]);
  });

  it("output without the flag (older scripts) reads as not in the background", async () => {
    const reply = (stdout: string): CommandRunner => ({ run: () => Promise.resolve({ code: 0, stdout, stderr: "" }) });
    await expect(new AegirDriver({ runner: reply('{"nid":7,"task":8}\n') }).createSite(SPARE)).resolves.toEqual({ nid: 7, task: 8, background: false });
    await expect(new AegirDriver({ runner: reply('{"nid":9}\n') }).queueTask("spare-a.pool.invalid", "verify")).resolves.toEqual({ nid: 9, background: false });
    const status = '{"sites":[{"nid":1,"uri":"a.example.com","status":1,"verified":0,"platform":"p","profile":"standard","aliases":[],"https":null,"tasks":[{"nid":2,"type":"verify","status":-1,"executed":0,"delta":0}]}],"platforms":[],"queue":{"queued":0,"processing":1},"https":false}';
    expect((await new AegirDriver({ runner: reply(status) }).serverStatus()).sites[0]?.tasks).toEqual([{ nid: 2, type: "verify", status: "processing", executed: 0, delta: 0, background: false }]);
  });
});

describe("site writes", () => {
  it("enableModules enables modules on the platform through module_enable(), never pm-enable", async () => {
    const { sim, driver } = simulated();
    const uri = await installedSite(sim, driver);
    await driver.enableModules(uri, ["oa_analytics", "oa_markdown"]);
    expect(sim.site(uri)?.drupal?.modules).toEqual(expect.arrayContaining(["oa_analytics", "oa_markdown"]));
    await driver.enableModules(uri, ["oa_analytics"]);
    expect(sim.stats.count("php-eval:enable-modules")).toBe(2);
    expect(sim.stats.count("pm-enable")).toBe(0);
  });

  it("a module the platform lacks is a permanent ModuleNotOnPlatform and nothing of the list is enabled", async () => {
    const { sim, driver } = simulated();
    const uri = await installedSite(sim, driver);
    const error = await rejection(driver.enableModules(uri, ["oa_analytics", "premium_widgets"]));
    expect(error).toMatchObject({ reason: "ModuleNotOnPlatform", kind: "permanent", command: "php-eval:enable-modules" });
    expect(error.message).toBe("Module premium_widgets not on the site's platform");
    expect(sim.site(uri)?.drupal?.modules).not.toContain("oa_analytics");
  });

  it("a module whose dependency the platform lacks is a permanent ModuleNotOnPlatform naming both", async () => {
    const platform = openAtriumPlatform({ extraModules: ["acme_reports"] });
    const { sim, driver } = simulated({ platforms: [{ ...platform, dependencies: { ...platform.dependencies, acme_reports: ["views", "charts"] } }] });
    const uri = await installedSite(sim, driver);
    const error = await rejection(driver.enableModules(uri, ["acme_reports"]));
    expect(error).toMatchObject({ reason: "ModuleNotOnPlatform", kind: "permanent" });
    expect(error.message).toBe("Module acme_reports needs charts, which the platform lacks");
    expect(sim.site(uri)?.drupal?.modules).not.toContain("acme_reports");
  });

  it("disableModules disables", async () => {
    const { sim, driver } = simulated();
    const uri = await installedSite(sim, driver);
    await driver.disableModules(uri, ["oa_wiki"]);
    expect(sim.site(uri)?.drupal?.modules).not.toContain("oa_wiki");
  });

  it("setDefaultTheme enables the theme and sets theme_default; a missing theme is ThemeNotOnPlatform", async () => {
    const { sim, driver } = simulated({ platforms: [openAtriumPlatform({ extraThemes: ["acme_premium"] })] });
    const uri = await installedSite(sim, driver);
    await driver.setDefaultTheme(uri, "acme_premium");
    expect(await driver.siteState(uri, OWNER)).toMatchObject({ theme: "acme_premium", themes: ["acme_premium", "oa_theme"] });
    expect(sim.stats.count("pm-enable")).toBe(0);
    expect(await rejection(driver.setDefaultTheme(uri, "nope_theme"))).toMatchObject({ reason: "ThemeNotOnPlatform", message: "Theme nope_theme not available on the site's platform" });
  });

  it("a theme added to the platform after install is seen and can be set (system_rebuild_theme_data)", async () => {
    const { sim, driver } = simulated();
    const uri = await installedSite(sim, driver);
    const platform = sim.hostmaster.platformByName("platform_openatrium2652");
    platform?.themes.add("acme_new");
    expect((await driver.siteState(uri, OWNER)).availableThemes).toContain("acme_new");
    await driver.setDefaultTheme(uri, "acme_new");
    expect(sim.site(uri)?.drupal?.variables.get("theme_default")).toBe("acme_new");
  });

  it("setVariable stores strings and integers", async () => {
    const { sim, driver } = simulated();
    const uri = await installedSite(sim, driver);
    await driver.setVariable(uri, "user_limit", 25);
    await driver.setVariable(uri, "site_slogan", "Work together");
    expect(sim.site(uri)?.drupal?.variables.get("user_limit")).toBe(25);
    expect(sim.site(uri)?.drupal?.variables.get("site_slogan")).toBe("Work together");
  });

  it("createUser creates an active account; an existing name is UserExists", async () => {
    const { sim, driver } = simulated();
    const uri = await installedSite(sim, driver);
    await driver.createUser(`@${uri}`, "jane", "jane@example.com");
    expect(await driver.findAccount(`@${uri}`, { name: "jane" })).toMatchObject({ uid: 2, status: "active" });
    expect(await rejection(driver.createUser(`@${uri}`, "jane", "other@example.com"))).toMatchObject({ reason: "UserExists", kind: "permanent" });
  });

  it("addRole and removeRole; a role the site lacks is RoleNotOnSite, an unknown user UnknownUser", async () => {
    const { sim, driver } = simulated({ platforms: [openAtriumPlatform({ extraRoles: ["manager"] })] });
    const uri = await installedSite(sim, driver);
    await driver.createUser(`@${uri}`, "jane", "jane@example.com");
    await driver.addRole(`@${uri}`, "manager", "jane");
    expect((await driver.siteState(uri, OWNER)).owner?.roles).toEqual(["manager"]);
    await driver.removeRole(`@${uri}`, "manager", "jane");
    expect((await driver.siteState(uri, OWNER)).owner?.roles).toEqual([]);
    expect(await rejection(driver.addRole(`@${uri}`, "support premium", "jane"))).toMatchObject({ reason: "RoleNotOnSite" });
    expect(await rejection(driver.addRole(`@${uri}`, "manager", "nobody"))).toMatchObject({ reason: "UnknownUser" });
  });

  it("OA2 without a platform-added role has no manager role", async () => {
    const { sim, driver } = simulated();
    const uri = await installedSite(sim, driver);
    await driver.createUser(`@${uri}`, "jane", "jane@example.com");
    expect(await rejection(driver.addRole(`@${uri}`, "manager", "jane"))).toMatchObject({ reason: "RoleNotOnSite" });
  });

  it("sends no command that can put another account's login link or a mail in front of the customer", () => {
    // user-login falls back to uid 1 for an unknown name; user-unblock mails the account.
    const methods = Object.getOwnPropertyNames(AegirDriver.prototype);
    expect(methods).not.toContain("loginLink");
    expect(methods).not.toContain("unblockUser");
  });

  it("sendWelcomeMail sends once: the second call returns sent:false and the outbox holds one mail", async () => {
    const { sim, driver } = simulated();
    const uri = await installedSite(sim, driver);
    await driver.createUser(`@${uri}`, "jane", "jane@example.com");
    await driver.addRole(`@${uri}`, "editor", "jane");
    const first = await driver.sendWelcomeMail(uri, "jane", "editor");
    const second = await driver.sendWelcomeMail(uri, "jane", "editor");
    expect(first).toMatchObject({ uid: 2, sent: true, marker: { state: "sent" } });
    expect(second).toEqual({ uid: 2, sent: false, marker: first.marker });
    const welcome = sim.site(uri)?.drupal?.outbox.filter((m) => m.to === "jane@example.com");
    expect(welcome).toEqual([expect.objectContaining({ kind: "register_admin_created", uid: 2 })]);
    expect((await driver.siteState(uri, OWNER)).welcome).toEqual({ "2": first.marker });
  });

  it("a failed welcome mail is marked failed and not retried", async () => {
    const { sim, driver } = simulated();
    const uri = await installedSite(sim, driver);
    await driver.createUser(`@${uri}`, "jane", "jane@example.com");
    await driver.addRole(`@${uri}`, "editor", "jane");
    sim.faults.failMail();
    // drush exits 1 (Drupal logged the mail error) after the script printed its marker.
    expect(await driver.sendWelcomeMail(uri, "jane", "editor")).toMatchObject({ sent: false, marker: { state: "failed" } });
    expect(sim.stats.records.at(-1)?.code).toBe(1);
    expect(await driver.sendWelcomeMail(uri, "jane", "editor")).toMatchObject({ sent: false, marker: { state: "failed" } });
    expect(sim.site(uri)?.drupal?.outbox.filter((m) => m.to === "jane@example.com")).toEqual([]);
  });

  it("sendWelcomeMail refuses uid 1 and an account without the owner role: no mail, no marker", async () => {
    const { sim, driver } = simulated();
    const uri = await installedSite(sim, driver);
    await driver.createUser(`@${uri}`, "jane", "jane@example.com");
    expect(await rejection(driver.sendWelcomeMail(uri, "jane", "editor"))).toMatchObject({ command: "php-eval:welcome-mail" });
    expect(await rejection(driver.sendWelcomeMail(uri, "admin", "administrator"))).toMatchObject({ command: "php-eval:welcome-mail" });
    expect(sim.site(uri)?.drupal?.outbox.filter((m) => m.kind === "register_admin_created")).toEqual([]);
    expect((await driver.siteState(uri, OWNER)).welcome).toEqual({});
    await driver.addRole(`@${uri}`, "editor", "jane");
    expect(await driver.sendWelcomeMail(uri, "jane", "editor")).toMatchObject({ sent: true });
  });

  it("sendWelcomeMail validates the role it checks", async () => {
    const { driver } = simulated();
    await expect(driver.sendWelcomeMail("acme.example.com", "jane", "x'; drop")).rejects.toThrow(/^role: /);
  });
});

describe("failures", () => {
  it("an unknown site alias is UnknownSite", async () => {
    const { driver } = simulated();
    expect(await rejection(driver.disableModules("nope.example.com", ["oa_wiki"]))).toMatchObject({ reason: "UnknownSite", command: "pm-disable" });
  });

  it("a site whose install has not run yet has no alias: UnknownSite", async () => {
    const { driver } = simulated({ autoRunTasks: false });
    await driver.createSite({ uri: "acme.example.com", platform: "platform_openatrium2652", profile: "openatrium", aliases: [], https: "Disabled" });
    expect(await rejection(driver.siteState("acme.example.com", OWNER))).toMatchObject({ reason: "UnknownSite" });
  });

  it("provision's load guard is ServerOverloaded (transient)", async () => {
    const { driver, sim } = simulated();
    sim.faults.overload();
    expect(await rejection(driver.serverStatus())).toMatchObject({ reason: "ServerOverloaded", transient: true });
    await expect(driver.serverStatus()).resolves.toBeDefined();
  });

  it("failNext matches by command and alias, with the given status and stderr", async () => {
    const { driver, sim } = simulated();
    const uri = await installedSite(sim, driver);
    sim.faults.failNext({ match: { command: "php-eval:enable-modules", alias: `@${uri}` }, exitCode: 255, stderr: "PHP Fatal error:  Allowed memory size exhausted\n" });
    await driver.serverStatus();
    const error = await rejection(driver.enableModules(uri, ["oa_analytics"]));
    expect(error).toMatchObject({ reason: "DrushFailed", command: "php-eval:enable-modules" });
    expect(error.message).toContain("crashed (PHP fatal error)");
    await driver.enableModules(uri, ["oa_analytics"]);
  });

  it("a dropped connection rejects with ConnectionLost; the effect applies only if configured", async () => {
    const { driver, sim } = simulated();
    const uri = await installedSite(sim, driver);
    sim.faults.drop({ match: { command: "user-create" } });
    expect(await rejection(driver.createUser(`@${uri}`, "jane", "jane@example.com"))).toMatchObject({ reason: "ConnectionLost", transient: true });
    expect(await driver.findAccount(`@${uri}`, { name: "jane" })).toBeNull();
    sim.faults.drop({ match: { command: "user-create" }, applied: true });
    expect(await rejection(driver.createUser(`@${uri}`, "jane", "jane@example.com"))).toMatchObject({ reason: "ConnectionLost" });
    expect(await driver.findAccount(`@${uri}`, { name: "jane" })).not.toBeNull();
    expect(sim.stats.records.filter((r) => r.outcome === "dropped")).toHaveLength(2);
  });

  it("probabilistic faults are reproducible from the seed", async () => {
    const outcomes = async (seed: number) => {
      const { driver, sim } = simulated({ seed });
      sim.faults.overload({ times: Infinity, probability: 0.5 });
      const results: boolean[] = [];
      for (let i = 0; i < 20; i++) results.push(await driver.serverStatus().then(() => true, () => false));
      return results;
    };
    const a = await outcomes(7);
    expect(await outcomes(7)).toEqual(a);
    expect(a).toContain(true);
    expect(a).toContain(false);
  });
});
