// `npm run chaos -- --seeds N`: N seeded fault schedules against the whole system (long
// schedules), then the fuzz suite with a larger budget. `--seed S` replays one schedule;
// `--quick` uses the short schedules `npm test` runs; `--no-fuzz` skips the fuzzing;
// `--fuzz-runs 20x` (the default) multiplies the fuzz suite's run counts (`5000` sets them).
// CHAOS_LOG_DIR=DIR keeps every replica's and webhook's whole log, per seed.
// A failing seed prints its schedule, its violations and the replicas' last log lines.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type ChaosReport, runSchedule } from "./run.ts";
import { describeSchedule, LONG, makeSchedule, QUICK } from "./schedule.ts";

const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "5" },
    seed: { type: "string" },
    first: { type: "string", default: "1" },
    quick: { type: "boolean", default: false },
    "no-fuzz": { type: "boolean", default: false },
    "fuzz-runs": { type: "string", default: "20x" },
  },
});

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`chaos: --${name} must be a positive whole number, got "${text}"\n`);
    process.exit(2);
  }
  return n;
}

const seeds = values.seed !== undefined ? [positive("seed", values.seed)] : Array.from({ length: positive("seeds", values.seeds) }, (_, i) => positive("first", values.first) + i);
const size = values.quick ? QUICK : LONG;
const reports: ChaosReport[] = [];
for (const seed of seeds) {
  const schedule = makeSchedule(seed, size);
  const report = await runSchedule(schedule);
  reports.push(report);
  const status = report.violations.length === 0 ? "ok" : `${report.violations.length} VIOLATIONS`;
  process.stdout.write(
    `seed ${seed}: ${status}; converged ${report.convergedMs === null ? "never" : `${(report.convergedMs / 1000).toFixed(1)} s`} after faults; ` +
      `${Object.values(report.injected).reduce((a, b) => a + b, 0)} faults, ${report.replicas.killed} kills, ${report.leaderChanges} leader changes, ` +
      `${report.writesChecked} writes attributed, ${report.deliveries.attempts} deliveries (${report.deliveries.duplicates} duplicates); ${(report.durationMs / 1000).toFixed(0)} s\n`,
  );
  if (report.violations.length > 0) {
    process.stdout.write(`${describeSchedule(schedule)}\nviolations:\n${report.violations.map((v) => `  ${v}`).join("\n")}\nreplica logs (last lines):\n${report.logs.join("\n")}\n`);
    process.stdout.write(`replay: npm run chaos -- --seed ${seed}${values.quick ? " --quick" : ""}\n`);
  }
}

const totals: Record<string, number> = {};
for (const r of reports) for (const [kind, n] of Object.entries(r.injected)) totals[kind] = (totals[kind] ?? 0) + n;
const violations = reports.reduce((n, r) => n + r.violations.length, 0);
process.stdout.write(`\nschedules: ${reports.length}, invariant violations: ${violations}\nfaults injected by kind:\n`);
for (const [kind, n] of Object.entries(totals).sort()) process.stdout.write(`  ${kind.padEnd(28)} ${n}\n`);
const converged = reports.map((r) => r.convergedMs).filter((ms): ms is number => ms !== null);
if (converged.length > 0) process.stdout.write(`convergence after faults: max ${(Math.max(...converged) / 1000).toFixed(1)} s\n`);

let fuzzFailed = false;
if (!values["no-fuzz"]) {
  process.stdout.write(`\nfuzzing the input edges (FUZZ_RUNS=${values["fuzz-runs"]})\n`);
  const root = join(import.meta.dirname, "../..");
  const result = spawnSync(process.execPath, [join(root, "node_modules/vitest/vitest.mjs"), "run", "test/fuzz"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, FUZZ_RUNS: values["fuzz-runs"] },
  });
  fuzzFailed = result.status !== 0;
}
process.exit(violations > 0 || fuzzFailed ? 1 : 0);
