// The backup benchmark at smoke size: every site backed up once in the window, and no install
// waits behind more than one backup.
import { expect, it } from "vitest";
import { runBackupBench } from "./backups.ts";

it("backs every site up once and never holds an install behind more than one backup", async () => {
  const r = await runBackupBench({ sites: 40, servers: 2 });
  expect(r.backups).toBe(40);
  expect(r.installs).toBeGreaterThan(60);
  expect(r.maxInstallDelaySeconds).toBeLessThanOrEqual(r.backupSeconds);
}, 60_000);
