// The conformance checks of `aegir-operator check-server` as the AegirServer's `Conformant`
// condition. They cost a handful of commands, so they run when the spec changes and then at a
// slow interval, not on every poll; the test mail is never sent from here.
import type { AegirServer } from "../../crds/kinds.ts";
import { type Sellable, conformanceCondition, evaluate } from "../aegir/conformance/checks.ts";
import type { Observation } from "../aegir/conformance/probe.ts";
import type { ConditionInput } from "../../crds/conditions.ts";

export const CONFORMANCE_INTERVAL_MS = 30 * 60_000;

export interface ConformanceMonitorOptions {
  /** probeServer() over the server's SSH pool. */
  probe: (server: AegirServer) => Promise<Observation>;
  /** What the catalog sells per profile; empty checks only the quota module. */
  sellable?: Sellable;
  now: () => number;
  intervalMs?: number;
}

/** The controller has no catalog: it checks the quota module and the platforms only. */
const NOTHING_SOLD: Sellable = new Map();

export class ConformanceMonitor {
  private readonly o: ConformanceMonitorOptions;
  private readonly last = new Map<string, { generation: number; at: number; condition: ConditionInput }>();

  constructor(options: ConformanceMonitorOptions) {
    this.o = options;
  }

  /** The latest Conformant condition, probing again when the spec changed or the interval passed. */
  async condition(server: AegirServer): Promise<ConditionInput> {
    const name = server.metadata.name;
    const generation = server.metadata.generation ?? 0;
    const cached = this.last.get(name);
    const now = this.o.now();
    if (cached && cached.generation === generation && now - cached.at < (this.o.intervalMs ?? CONFORMANCE_INTERVAL_MS)) return cached.condition;
    const condition = conformanceCondition(evaluate(server.spec, this.o.sellable ?? NOTHING_SOLD, await this.o.probe(server)));
    this.last.set(name, { generation, at: now, condition });
    return condition;
  }
}
