// The driver's backup reads and backup tasks against the simulated Aegir: site-backups,
// restore and backup-delete (queue-backup-task), migrate rollback, and fault injection.
import { describe, expect, it } from "vitest";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { AegirError } from "../../reconcilers/aegir/errors.ts";
import { AegirSimulator, openAtriumPlatform } from "../harness/aegir/index.ts";

const URI = "acme.example.com";

function rig() {
  const sim = new AegirSimulator({
    platforms: [openAtriumPlatform(), openAtriumPlatform({ name: "platform_openatrium2653" })],
    sites: [{ uri: URI }, { uri: "other.example.com" }],
    autoRunTasks: false,
  });
  return { sim, driver: new AegirDriver({ runner: sim.runner() }) };
}

async function backedUp(times: number) {
  const r = rig();
  for (let i = 0; i < times; i++) {
    await r.driver.queueTask(URI, "backup");
    r.sim.drainTasks();
  }
  return r;
}

async function rejection(promise: Promise<unknown>): Promise<AegirError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof AegirError)) throw new Error(`expected an AegirError, got ${String(error)}`);
  return error;
}

describe("backup tasks", () => {
  it("site-backups lists every site's backups, oldest first", async () => {
    const { sim, driver } = await backedUp(2);
    const backups = await driver.siteBackups();
    expect(backups.map((b) => [b.uri, b.file])).toEqual(sim.site(URI)!.backups.map((b) => [URI, b.file]));
    expect(new Set(backups.map((b) => b.bid)).size).toBe(2);
  });

  it("backup-delete removes exactly the named files, as one task", async () => {
    const { sim, driver } = await backedUp(3);
    const [oldest, middle, newest] = sim.site(URI)!.backups.map((b) => b.file);
    const { nid } = await driver.queueBackupDelete(URI, [oldest!, middle!]);
    expect(sim.hostmaster.tasks.get(nid)).toMatchObject({ type: "backup-delete", status: 0 });
    sim.drainTasks();
    expect(sim.site(URI)!.backups.map((b) => b.file)).toEqual([newest]);
  });

  it("restore queues Aegir's restore task with the backup's bid", async () => {
    const { sim, driver } = await backedUp(1);
    const backup = (await driver.siteBackups())[0]!;
    const { nid } = await driver.queueRestore(URI, backup.file);
    expect(sim.hostmaster.tasks.get(nid)).toMatchObject({ type: "restore", args: { bid: backup.bid } });
    sim.drainTasks();
    expect(sim.hostmaster.tasks.get(nid)?.status).toBe(1);
    expect(sim.hostmaster.tasks.get(nid)?.log.at(-1)?.message).toBe(`Restored site ${URI} from ${backup.file}.`);
  });

  it("refuses a file that is not a backup of the site, and a second task while one is pending", async () => {
    const { driver } = await backedUp(1);
    expect(await rejection(driver.queueRestore(URI, "/var/aegir/backups/other.example.com-20270101.000000.tar.gz"))).toMatchObject({ reason: "UnknownBackup", kind: "permanent" });
    const file = (await driver.siteBackups())[0]!.file;
    await driver.queueTask(URI, "verify");
    expect(await rejection(driver.queueRestore(URI, file))).toMatchObject({ reason: "TaskPending" });
  });

  it("validates file names before they reach the server", async () => {
    const { sim, driver } = rig();
    await expect(driver.queueRestore(URI, "/var/aegir/backups/x.tar.gz; rm -rf /")).rejects.toThrow(/files\[0\]: must be a backup file path/);
    await expect(driver.queueBackupDelete(URI, [])).rejects.toThrow(TypeError);
    expect(sim.stats.counts().total).toBe(0);
  });

  it("an injected restore or backup-delete failure fails the task and keeps the backups", async () => {
    const { sim, driver } = await backedUp(2);
    const files = sim.site(URI)!.backups.map((b) => b.file);
    sim.faults.failTask({ type: "backup-delete" });
    sim.faults.failTask({ type: "restore", message: "Could not restore the database." });
    const del = await driver.queueBackupDelete(URI, [files[0]!]);
    sim.drainTasks();
    const restore = await driver.queueRestore(URI, files[1]!);
    sim.drainTasks();
    expect(sim.hostmaster.tasks.get(del.nid)?.status).toBe(2);
    expect(sim.hostmaster.tasks.get(restore.nid)).toMatchObject({ status: 2, log: [expect.objectContaining({ message: "Could not restore the database." })] });
    expect(sim.site(URI)!.backups.map((b) => b.file)).toEqual(files);
  });

  it("a failed migrate leaves the site on its old platform (Aegir rolls back)", async () => {
    const { sim, driver } = rig();
    sim.faults.failTask({ type: "migrate", uri: URI });
    await driver.queueTask(URI, "migrate", { targetPlatform: "platform_openatrium2653" });
    sim.drainTasks();
    const site = (await driver.serverStatus()).sites.find((s) => s.uri === URI);
    expect(site).toMatchObject({ platform: "platform_openatrium2652", status: "enabled" });
    expect(site?.tasks.find((t) => t.type === "migrate")?.status).toBe("failed");
  });
});
