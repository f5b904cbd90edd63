// The suite's table and target checks, its command line, and the webhook benchmark at smoke size.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { met, type Row, table } from "./run.ts";
import { runWebhookBench } from "./webhook-throughput.ts";

it("prints one row per measurement with ratio and whether the target is met", () => {
  const rows: Row[] = [
    { scenario: "fast enough", measured: 105, unit: "s", reference: 100, target: { kind: "max", limit: 1.1 } },
    { scenario: "too slow", measured: 30, unit: "ev/s", reference: 500, target: { kind: "min", limit: 1 } },
    { scenario: "no writes", measured: 0, unit: "cmd", reference: 0, target: { kind: "equal" }, note: "12 reads" },
  ];
  expect(rows.map(met)).toEqual([true, false, true]);
  const lines = table(rows).split("\n");
  expect(lines[0]).toMatch(/^\| scenario +\| measured +\| reference +\| ratio +\| target met \|$/);
  expect(lines[2]).toMatch(/^\| fast enough +\| 105 s +\| 100 s +\| 1\.05 +\| yes +\|$/);
  expect(lines[3]).toContain("| no ");
  expect(lines.at(-1)).toContain("no writes: 12 reads");
});

it("runs the webhook benchmark as a function", async () => {
  const r = await runWebhookBench({ events: 80, concurrency: 8, workers: 2 });
  expect(r.events).toBe(80);
  expect(r.accepted).toBe(80);
  expect(r.eventsPerSecond).toBeGreaterThan(0);
  expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
}, 20_000);

it("refuses a contention below 1 or not a number, naming the flag, before running anything", () => {
  const run = fileURLToPath(new URL("./run.ts", import.meta.url));
  for (const value of ["0.5", "fast", "-1"]) {
    const r = spawnSync(process.execPath, [run, `--contention=${value}`, "--skip", "burst,scale,webhook,resync,spaces,backups,sitepool,rollout"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`--contention must be a number >= 1`);
    expect(r.stdout).toBe("");
  }
}, 20_000);
