// The pool as `kubectl get aegirservers` shows it: spares ready and targeted, summed over the
// server's SitePools. Pure.
import type { AegirServerStatus } from "../../crds/aegirserver.ts";
import type { SitePool } from "../../crds/kinds.ts";

export type ServerPoolSummary = NonNullable<AegirServerStatus["pool"]>;

/** The summary for `server` from the pools (`fresh` replaces its stale copy among them); undefined without pools. */
export function serverPoolSummary(server: string, pools: readonly SitePool[], fresh: SitePool): ServerPoolSummary | undefined {
  const mine = [...pools.filter((p) => p.metadata.name !== fresh.metadata.name), fresh].filter((p) => p.spec.server === server);
  if (mine.length === 0) return undefined;
  const ready = mine.reduce((n, p) => n + (p.status?.ready ?? 0), 0);
  const target = mine.reduce((n, p) => n + (p.status?.target ?? 0), 0);
  return { ready, target, spares: `${ready}/${target}` };
}
