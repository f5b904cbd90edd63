// V8 heap settings of the long-running `controller` command, applied by the binary itself
// (bin.ts), so every way of starting it (the image, the chart, npx, the tests and benchmarks)
// runs with the same heap.
//
// Why: on a host with memory to spare and no container limit, V8 gives Node (built without
// pointer compression) 2 × 64 MB young-generation semi-spaces and lets the old generation grow
// up to 4× past what survived the last full collection. The controller's live heap at 10,000
// sites is ~75 MB, yet a cold sync left its RSS at ~450 MB: mostly young-generation space and
// garbage not yet collected. 16 MB semi-spaces and a 50 % growth step measured ~270 MB for the
// same CPU time and latency. Neither flag caps the heap: a larger fleet still gets the heap it
// needs (a container memory limit remains the ceiling, as V8 derives its maximum from it).
export const CONTROLLER_V8_FLAGS: readonly string[] = ["--max-semi-space-size=16", "--heap-growing-percent=50"];

const flagName = (arg: string) => (arg.split("=")[0] ?? "").replaceAll("_", "-");

/** The flags not already set on the command line or in NODE_OPTIONS: an operator's own settings win. */
export function missingFlags(flags: readonly string[], execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = new Set([...execArgv, ...(nodeOptions ?? "").split(/\s+/)].map(flagName));
  return flags.filter((flag) => !given.has(flagName(flag)));
}
