// What plan() needs from the HostedSite object itself, besides desired and observed state.
import type { HostedSite } from "../../crds/kinds.ts";
import { CREATE_PENDING_ANNOTATION } from "./names.ts";
import type { Aspect, Observed, PlanContext } from "./plan.ts";

export function planContext(site: HostedSite, observed: Observed, now: Date, blocked: ReadonlySet<Aspect>): PlanContext {
  const createPending = site.metadata.annotations?.[CREATE_PENDING_ANNOTATION];
  return {
    now,
    appliedFeatures: site.status?.appliedFeatures ?? [],
    blocked,
    createPendingSince: createPending && observed.site === undefined ? new Date(createPending) : undefined,
    welcomed: site.status?.owner?.welcomedAt !== undefined,
    activeUsersSeen: site.status?.users?.active ?? 0,
  };
}
