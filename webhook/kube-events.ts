// The production EventRecorder of the webhook: events.k8s.io Events through the controller's
// aggregating recorder, with the same kubeconfig discovery as the applier.
import { hostname } from "node:os";
import { KubeConfig } from "@kubernetes/client-node";
import type { EventRecorder } from "../common/events.ts";
import { KubeRest } from "../common/kube/rest.ts";
import type { Logger } from "../common/logger.ts";
import { KubeEventRecorder } from "../controller/kube/events.ts";

export function webhookEventRecorder(log: Logger, kubeConfig?: KubeConfig): EventRecorder {
  const kc = kubeConfig ?? new KubeConfig();
  if (kubeConfig === undefined) kc.loadFromDefault();
  const rest = new KubeRest(kc, { userAgent: "aegir-operator-webhook", timeoutMs: 15_000 });
  return new KubeEventRecorder({ rest, controller: "aegir-operator-webhook", instance: hostname(), log });
}
