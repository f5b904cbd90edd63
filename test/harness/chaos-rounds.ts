// The chaos rounds of the convergence properties: each round maybe arms a transient fault on one
// command, reconciles as the runtime would (requeue or back off), and maybe kills the controller
// before its n-th write or restarts it. Shared by the HostedSite and HostedSpace properties.
import fc from "fast-check";
import type { Result } from "../../common/reconcile.ts";
import type { Faults } from "./aegir/faults.ts";

export interface ChaosRound {
  fault?: { command: string; kind: "overload" | "drop-applied" | "drop-lost" | "fail" } | undefined;
  crash: "none" | "restart" | "before-write";
  writeToCrashAt: number;
}

/** Rounds whose faults hit one of `commands` and whose crashes come before one of the first writes. */
export function chaosRound(commands: readonly string[], maxWriteToCrashAt: number): fc.Arbitrary<ChaosRound> {
  const fault = fc.record({ command: fc.constantFrom(...commands), kind: fc.constantFrom("overload" as const, "drop-applied" as const, "drop-lost" as const, "fail" as const) });
  return fc.record({
    fault: fc.option(fault, { freq: 2, nil: undefined }),
    crash: fc.constantFrom("none" as const, "none" as const, "none" as const, "restart" as const, "before-write" as const),
    writeToCrashAt: fc.integer({ min: 0, max: maxWriteToCrashAt }),
  });
}

export interface ChaosRig {
  // `never`: the rigs pass what kind of write comes; the rounds do not look.
  store: { beforeWrite: (kind: never) => void };
  reconcile(): Promise<Result>;
  advance(ms: number): void;
  restart(): void;
}

/** Plays the rounds against the rig; faults are cleared at the end. */
export async function playChaos(rig: ChaosRig, faults: Faults, rounds: readonly ChaosRound[]): Promise<void> {
  for (const r of rounds) {
    if (r.fault) {
      const match = { command: r.fault.command };
      if (r.fault.kind === "overload") faults.overload({ match });
      else if (r.fault.kind === "fail") faults.failNext({ match, exitCode: 255, stderr: "PHP Fatal error: MySQL server has gone away\n" });
      else faults.drop({ match, applied: r.fault.kind === "drop-applied" });
    }
    let writes = 0;
    rig.store.beforeWrite = () => {
      if (r.crash === "before-write" && writes++ === r.writeToCrashAt) throw new Error("controller killed");
    };
    try {
      const result = await rig.reconcile();
      rig.advance(result.error ? 2_000 : Math.min(result.requeueAfterMs ?? 60_000, 60_000));
    } catch {
      rig.advance(1_000);
    }
    rig.store.beforeWrite = () => {};
    if (r.crash !== "none") rig.restart();
  }
  faults.clear();
}
