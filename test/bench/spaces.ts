// Scenario 5: many HostedSpaces on one shared site, the drush cost of a converged space.
//
// Latency model: none that matters here (the simulated Aegir's unit latency): the scenario
// counts commands, not time. N spaces are created on one shared Open Atrium site through the
// real HostedSpaceReconciler and space driver, all sharing one space-list cache as the
// controller does; once all are Ready, every space is reconciled once per poll interval on a
// frozen clock for P polls and the simulator counts the commands. Reference: the batched
// space-list read only, one per shared site per poll, i.e. 1/N per space per poll.
import { createLogger } from "../../common/logger.ts";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { HostedSpaceReconciler, type HostedSpaceStore } from "../../reconcilers/hostedspace/reconciler.ts";
import { spaceListCache } from "../../reconcilers/hostedspace/space-lists.ts";
import { CONFIG, MemoryHostedSpaceStore, hostedSpace, spaceSimulator } from "../hostedspace/harness.ts";

export interface SpacesBenchOptions {
  spaces: number;
  polls: number;
}

export interface SpacesBenchResult {
  spaces: number;
  polls: number;
  /** Commands per space per poll once converged. */
  perSpacePerPoll: number;
  /** Writes during the steady polls (should be none). */
  steadyWrites: number;
  /** Commands per space from creation to Ready. */
  commandsPerNewSpace: number;
  convergeSeconds: number;
  /** Space-list reads from creation to all Ready (one per half poll, not one per space). */
  convergeListReads: number;
}

export async function runSpacesBench(o: SpacesBenchOptions): Promise<SpacesBenchResult> {
  const sim = spaceSimulator();
  let now = new Date("2027-03-01T09:00:00Z");
  const driver = new AegirDriver({ runner: sim.runner() });
  const lists = spaceListCache({ driver: () => driver, now: () => now.getTime(), maxAgeMs: CONFIG.pollIntervalMs / 2 });
  const stores = new Map<string, MemoryHostedSpaceStore>();
  for (let i = 0; i < o.spaces; i++) {
    const space = hostedSpace(`space-${i}`, { memberQuota: 5, owner: { email: `owner${i}@example.com` } });
    stores.set(space.metadata.name, new MemoryHostedSpaceStore(space));
  }
  function store(s: { metadata: { name: string } }): MemoryHostedSpaceStore {
    const found = stores.get(s.metadata.name);
    if (found === undefined) throw new Error(`no store for ${s.metadata.name}`);
    return found;
  }
  // Each space's writes go to its own in-memory store.
  const routed: HostedSpaceStore = {
    addFinalizer: (s, f) => store(s).addFinalizer(s, f),
    removeFinalizer: (s, f) => store(s).removeFinalizer(s, f),
    updateStatus: (s, status) => store(s).updateStatus(s, status),
  };
  const reconciler = new HostedSpaceReconciler({ store: routed, sites: () => [], driver: () => driver, lists, now: () => now, log: createLogger({ name: "bench", level: "silent" }), events: { record: () => {} }, config: CONFIG });
  const ready = (s: MemoryHostedSpaceStore) => s.space.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";

  const started = performance.now();
  for (let round = 0; [...stores.values()].some((s) => !ready(s)); round++) {
    if (round > 20) throw new Error("spaces did not converge");
    for (const s of stores.values()) if (!ready(s)) await reconciler.reconcile(s.space);
    now = new Date(now.getTime() + CONFIG.progressPollMs);
  }
  const convergeSeconds = (performance.now() - started) / 1000;
  const creationCommands = sim.stats.records.length;
  const convergeListReads = sim.stats.records.filter((r) => r.name === "php-eval:space-list").length;

  // One poll to settle (the first after Ready reads nothing new), then the measured ones.
  const poll = async () => {
    now = new Date(now.getTime() + CONFIG.pollIntervalMs);
    for (const s of stores.values()) await reconciler.reconcile(s.space);
  };
  await poll();
  const mark = sim.stats.records.length;
  for (let i = 0; i < o.polls; i++) await poll();
  const steady = sim.stats.records.slice(mark);
  sim.close();
  return {
    spaces: o.spaces,
    polls: o.polls,
    perSpacePerPoll: steady.length / (o.spaces * o.polls),
    steadyWrites: steady.filter((r) => r.kind === "write").length,
    commandsPerNewSpace: creationCommands / o.spaces,
    convergeSeconds,
    convergeListReads,
  };
}
