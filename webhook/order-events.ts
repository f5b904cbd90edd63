// Parked orders and dead events as Kubernetes Events on the HostedSite the order is for (its name
// is known before it exists), so `kubectl describe hs` and `kubectl get events` show them to
// whoever watches the cluster rather than the ledger.
import { API_VERSION } from "../crds/group.ts";
import type { EventRecorder } from "../common/events.ts";
import { siteName } from "./hostedsite-manifest.ts";
import { deadKind, eventReason, parkKind } from "./order-reasons.ts";

export interface OrderProblem {
  subscriptionId: string;
  kind: "parked" | "dead";
  /** The order's reason or the event's error, as the ledger keeps it. */
  why: string;
  /** The order's HostedSite when known: a handed-over site keeps its first subscription's name. */
  site?: string | undefined;
}

export function orderProblemEvents(recorder: EventRecorder, namespace: string): (problem: OrderProblem) => void {
  return ({ subscriptionId, kind, why, site }) => {
    const regarding = { apiVersion: API_VERSION, kind: "HostedSite", name: site ?? siteName(subscriptionId), namespace };
    const reason = kind === "parked" ? eventReason("OrderParked", parkKind(why)) : eventReason("OrderDead", deadKind(why));
    const note = `${kind === "parked" ? "order parked" : "event dead-lettered"} for subscription ${subscriptionId}: ${why} (aegir-operator orders show ${subscriptionId})`;
    recorder.record(regarding, "Warning", reason, kind === "parked" ? "ParkOrder" : "DeadLetter", note);
  };
}
