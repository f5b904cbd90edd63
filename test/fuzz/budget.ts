// Run budget and replay for the fuzz suite. Every property has a fixed seed (derived from its
// name) and a small default run count, so `npm test` is deterministic and fast; the environment
// scales it up for a longer run:
//   FUZZ_RUNS=20x   twenty times each property's default run count (a multiplier)
//   FUZZ_RUNS=5000  that many runs for every property (a count)
//   FUZZ_SEED=123   this seed for every property instead of the fixed ones
//   FUZZ_PATH=4:1:0 with FUZZ_SEED (and -t NAME): replay one failure's shrunk counterexample
// A failing property throws with the exact command that replays it.
import { relative } from "node:path";
import * as fc from "fast-check";

const REPO_ROOT = `${import.meta.dirname}/../..`;

export interface Budget {
  runs: number;
  seed: number;
  /** How much longer than the default this run is: scales the test's time limit. */
  factor: number;
  path: string | undefined;
}

/** FNV-1a: a stable 32-bit seed from the property's name, so each property gets its own sequence. */
function nameSeed(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash | 0;
}

function parseRuns(value: string | undefined, defaultRuns: number): number {
  if (value === undefined || value.trim() === "") return defaultRuns;
  const multiplier = /^\s*(\d+(?:\.\d+)?)\s*x\s*$/i.exec(value);
  if (multiplier) return Math.max(1, Math.round(defaultRuns * Number(multiplier[1])));
  if (/^\s*\d+\s*$/.test(value)) return Math.max(1, Number(value));
  throw new Error(`FUZZ_RUNS must be a count like 5000 or a multiplier like 20x, not ${JSON.stringify(value)}`);
}

function parseSeed(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  if (!/^\s*-?\d+\s*$/.test(value)) throw new Error(`FUZZ_SEED must be an integer, not ${JSON.stringify(value)}`);
  return Number(value) | 0;
}

export function budget(name: string, defaultRuns: number, env: NodeJS.ProcessEnv = process.env): Budget {
  const runs = parseRuns(env.FUZZ_RUNS, defaultRuns);
  const path = env.FUZZ_PATH?.trim() || undefined;
  return { runs, seed: parseSeed(env.FUZZ_SEED) ?? nameSeed(name), factor: Math.max(1, runs / defaultRuns), path };
}

/** The vitest time limit for a property: the default one, stretched with the run count. */
export function timeLimit(name: string, defaultRuns: number, baseMs = 30_000): number {
  return Math.ceil(baseMs * budget(name, defaultRuns).factor);
}

/**
 * Checks the property with its budget; on failure throws fast-check's report headed by the
 * command that replays exactly this counterexample.
 */
export async function fuzz<Ts>(
  name: string,
  file: string,
  defaultRuns: number,
  property: fc.IAsyncProperty<Ts> | fc.IProperty<Ts>,
): Promise<void> {
  const b = budget(name, defaultRuns);
  const params: fc.Parameters<Ts> = {
    seed: b.seed,
    numRuns: b.runs,
    ...(b.path === undefined ? {} : { path: b.path, endOnFailure: true }),
  };
  const details = await fc.check(property, params);
  if (!details.failed) return;
  const env = [`FUZZ_SEED=${details.seed}`];
  if (details.counterexamplePath !== null) env.push(`FUZZ_PATH=${details.counterexamplePath}`);
  const test = `npx vitest run ${relative(REPO_ROOT, file)} -t ${JSON.stringify(name)}`;
  const runs = process.env.FUZZ_RUNS ? ` FUZZ_RUNS=${process.env.FUZZ_RUNS}` : "";
  const report = (await fc.asyncDefaultReportMessage(details)) ?? "property failed";
  throw new Error(
    `replay (in the repository root): ${env.join(" ")} ${test}\n(the whole sequence again: FUZZ_SEED=${details.seed}${runs} ${test})\n${report}`,
    { cause: details.errorInstance },
  );
}

/** Fails a run that took longer than `ms`: a stand-in for "never hangs" (super-linear blow-ups show up as seconds). */
export async function withinTime<T>(what: string, ms: number, action: () => Promise<T> | T): Promise<T> {
  const started = performance.now();
  const result = await action();
  const took = performance.now() - started;
  if (took > ms) throw new Error(`${what} took ${Math.round(took)} ms (limit ${ms} ms)`);
  return result;
}
