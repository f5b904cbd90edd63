// The space driver against the simulated Aegir: argument validation, the owner's uid check on
// the welcome mail, and the error reasons of the space scripts.
import { describe, expect, it } from "vitest";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { LEGACY_VARIABLES, SPACE_MODULE_INSTALL_FILE, SPACE_MODULE_INSTALL_PHP, SPACE_MODULE_PHP, SPACE_MODULE_INFO, SPACE_MODULE_VERSION } from "../../reconcilers/aegir/space-scripts.ts";
import { SpaceDriver } from "../../reconcilers/aegir/spaces.ts";
import { userByName } from "../harness/aegir/drupal.ts";
import { openAtrium } from "../harness/aegir/spaces.ts";
import { SHARED, spaceSimulator } from "../hostedspace/harness.ts";

const SETTINGS = { title: "Team", public: false, blueprint: "Default", published: true, quota: 2 };

function rig() {
  const sim = spaceSimulator();
  return { sim, spaces: new SpaceDriver(new AegirDriver({ runner: sim.runner() })) };
}

describe("space driver", () => {
  it("lists the managed spaces in one command, with members, administrators and welcome states", async () => {
    const { sim, spaces } = rig();
    expect(await spaces.list(SHARED)).toEqual({ module: null, spaces: [] });
    await spaces.installModule(SHARED);
    expect(await spaces.ensure(SHARED, "team", SETTINGS)).toMatchObject({ nid: 100, created: true });
    expect(await spaces.ensure(SHARED, "team", { ...SETTINGS, title: "Team 2" })).toMatchObject({ nid: 100, created: false });
    const { uid } = await spaces.ensureOwner(SHARED, "team", { name: "ada", mail: "ada@example.com" });
    const welcomed = await spaces.welcome(SHARED, "team", { mail: "ada@example.com", uid });
    const mark = sim.stats.records.length;
    const row = { machine: "team", nid: 100, title: "Team 2", published: true, public: false, blueprint: "Default", quota: 2, members: 1, admins: [uid], welcome: { [String(uid)]: "sent" } };
    expect(await spaces.list(SHARED)).toEqual({ module: SPACE_MODULE_VERSION, spaces: [row] });
    expect(sim.stats.records.length - mark).toBe(1);
    // The last write's answer carries the same row the list shows.
    expect(welcomed.space).toEqual(row);
  });

  it("answers each write with the space's row as the write left it", async () => {
    const { spaces } = rig();
    await spaces.installModule(SHARED);
    const ensured = await spaces.ensure(SHARED, "team", SETTINGS);
    expect(ensured.space).toEqual({ machine: "team", nid: ensured.nid, ...SETTINGS, members: 0, admins: [], welcome: {} });
    const owner = await spaces.ensureOwner(SHARED, "team", { name: "ada", mail: "ada@example.com" });
    expect(owner.space).toMatchObject({ members: 1, admins: [owner.uid], welcome: {} });
    expect((await spaces.ensure(SHARED, "team", { ...SETTINGS, published: false })).space).toMatchObject({ published: false, members: 1, admins: [owner.uid] });
  });

  it("refuses a welcome link for uid 1 or for an account that is not the owner's uid, before or on the site", async () => {
    const { sim, spaces } = rig();
    await spaces.installModule(SHARED);
    await spaces.ensure(SHARED, "team", SETTINGS);
    const { uid } = await spaces.ensureOwner(SHARED, "team", { name: "ada", mail: "ada@example.com" });
    const before = sim.stats.records.length;
    const admin = sim.site(SHARED)!.drupal!.users.get(1)!.mail;
    await expect(spaces.welcome(SHARED, "team", { mail: admin, uid: 1 })).rejects.toMatchObject({ reason: "OwnerIsSiteAdmin" });
    expect(sim.stats.records.length).toBe(before);
    // An address that resolves to another account (here: the site's uid 1) is refused by the site.
    await expect(spaces.welcome(SHARED, "team", { mail: admin, uid })).rejects.toMatchObject({ reason: "OwnerIsSiteAdmin" });
    await expect(spaces.welcome(SHARED, "team", { mail: "nobody@example.com", uid })).rejects.toMatchObject({ reason: "UnknownUser" });
    expect(sim.site(SHARED)?.drupal?.outbox.filter((m) => m.kind === "space_welcome")).toEqual([]);
  });

  it("classifies the space scripts' errors", async () => {
    const { spaces } = rig();
    await spaces.installModule(SHARED);
    await expect(spaces.ensure(SHARED, "team", { ...SETTINGS, blueprint: "Missing" })).rejects.toMatchObject({ reason: "UnknownBlueprint", transient: false });
    await expect(spaces.ensureOwner(SHARED, "nope", { name: "ada", mail: "ada@example.com" })).rejects.toMatchObject({ reason: "UnknownSpace" });
    await spaces.ensure(SHARED, "team", SETTINGS);
    await expect(spaces.ensureOwner(SHARED, "team", { name: "boss", mail: "boss@example.com" })).rejects.toMatchObject({ reason: "OwnerIsSiteAdmin" });
    // A name taken by someone else's account is refused, never taken over.
    await expect(spaces.ensureOwner(SHARED, "team", { name: "guest", mail: "ada@example.com" })).rejects.toMatchObject({ reason: "UserExists" });
  });

  it("finds the owner by her address, whatever the account's name, on the deep read and the writes", async () => {
    const { sim, spaces } = rig();
    await spaces.installModule(SHARED);
    await spaces.ensure(SHARED, "team", SETTINGS);
    const guest = userByName(sim.site(SHARED)!.drupal!, "guest")!;
    const owner = await spaces.ensureOwner(SHARED, "team", { name: "guest.example.com", mail: "guest@example.com" });
    expect(owner).toMatchObject({ uid: guest.uid, created: false });
    expect((await spaces.state(SHARED, "team", { mail: "guest@example.com" })).owner).toMatchObject({ uid: guest.uid, name: "guest" });
    expect(await spaces.welcome(SHARED, "team", { mail: "guest@example.com", uid: guest.uid })).toMatchObject({ uid: guest.uid, sent: true });
  });

  it("keeps no space in Drupal variables, and moves 7.x-1.0's into the module's tables when it replaces it", async () => {
    const { sim, spaces } = rig();
    await spaces.installModule(SHARED);
    await spaces.ensure(SHARED, "team", SETTINGS);
    const { uid } = await spaces.ensureOwner(SHARED, "team", { name: "ada", mail: "ada@example.com" });
    await spaces.welcome(SHARED, "team", { mail: "ada@example.com", uid });
    const drupal = sim.site(SHARED)!.drupal!;
    expect([...drupal.variables.keys()].filter((k) => k.startsWith("aegir_operator"))).toEqual([]);

    // A site that 7.x-1.0 managed: the same space, in its array variables.
    const old = rig();
    const site = old.sim.site(SHARED)!.drupal!;
    const before = (await spaces.list(SHARED)).spaces[0]!;
    await old.spaces.installModule(SHARED);
    await old.spaces.ensure(SHARED, "team", SETTINGS);
    const owner = await old.spaces.ensureOwner(SHARED, "team", { name: "ada", mail: "ada@example.com" });
    const oa = openAtrium(site);
    oa.tables = undefined;
    oa.moduleVersion = "7.x-1.0";
    site.variables.set(LEGACY_VARIABLES.spaces, { team: before.nid });
    site.variables.set(LEGACY_VARIABLES.quotas, { [String(before.nid)]: 2 });
    site.variables.set(LEGACY_VARIABLES.welcomes, { [String(before.nid)]: { [String(owner.uid)]: { state: "sent", at: 1 } } });
    expect(await old.spaces.list(SHARED)).toEqual({ module: "7.x-1.0", spaces: [] });
    await old.spaces.installModule(SHARED);
    expect((await old.spaces.list(SHARED)).spaces).toEqual([{ ...before, title: "Team" }]);
    expect(await old.spaces.ensure(SHARED, "team", SETTINGS)).toMatchObject({ nid: before.nid, created: false });
    expect(await old.spaces.welcome(SHARED, "team", { mail: "ada@example.com", uid: owner.uid })).toMatchObject({ sent: false });
    expect([...site.variables.keys()].filter((k) => k.startsWith("aegir_operator"))).toEqual([]);
  });

  it("validates every value before it reaches a command, naming the field", async () => {
    const { sim, spaces } = rig();
    await expect(spaces.ensure(SHARED, "Bad-Name", SETTINGS)).rejects.toThrow(/^machine: /);
    await expect(spaces.ensure(SHARED, "team", { ...SETTINGS, title: "line\nbreak" })).rejects.toThrow(/^title: /);
    await expect(spaces.ensureOwner(SHARED, "team", { name: "ada; rm -rf /", mail: "ada@example.com" })).rejects.toThrow(/^owner\.name: /);
    expect(sim.stats.records).toEqual([]);
  });

  it("carries the module source and its info file unchanged in the install script", () => {
    expect(SPACE_MODULE_INSTALL_PHP).toContain(`$module = <<<'MODULE'\n${SPACE_MODULE_PHP}MODULE;`);
    expect(SPACE_MODULE_INSTALL_PHP).toContain(`$info = <<<'INFO'\n${SPACE_MODULE_INFO}INFO;`);
    expect(SPACE_MODULE_INSTALL_PHP).toContain(`$install = <<<'INSTALL'\n${SPACE_MODULE_INSTALL_FILE}INSTALL;`);
    expect(SPACE_MODULE_INSTALL_FILE).not.toContain("\nINSTALL");
    expect(SPACE_MODULE_PHP).not.toContain("\nMODULE");
  });
});
