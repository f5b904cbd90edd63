// The production SiteApplier: server-side apply of the HostedSite as field manager
// `stripe-webhook`. Kubeconfig from KUBECONFIG, ~/.kube/config or the in-cluster service account.
// Each apply is bounded in time: a hung request would otherwise hold the outbox row's lease and
// the relay lane until the lease runs out, delaying the order (found by the chaos suite).
import { KubeConfig } from "@kubernetes/client-node";
import { KubeApiError, KubeRest } from "../common/kube/rest.ts";
import { FIELD_MANAGER } from "./hostedsite-manifest.ts";
import { itemsOf, type OrderManifest } from "./hostedspace-manifest.ts";
import type { SiteApplier } from "./relay.ts";

/** Longest one apply may take before it is given up on (and the row retried). */
export const APPLY_TIMEOUT_MS = 15_000;

export function kubeApplier(kubeConfig?: KubeConfig, options: { timeoutMs?: number } = {}): SiteApplier {
  const rest = new KubeRest(kubeConfig ?? defaultKubeConfig(), { userAgent: "aegir-operator-webhook", timeoutMs: options.timeoutMs ?? APPLY_TIMEOUT_MS });
  return {
    async apply(manifest: OrderManifest) {
      // In order: an upgrade's HostedSite before the space it supersedes.
      for (const object of itemsOf(manifest)) {
        const { name, namespace } = object.metadata;
        const plural = object.kind === "HostedSite" ? "hostedsites" : "hostedspaces";
        const path = `/apis/${object.apiVersion}/namespaces/${encodeURIComponent(namespace)}/${plural}/${encodeURIComponent(name)}`;
        try {
          // force: the webhook's own fields are the webhook's, even if someone edited them by hand.
          await rest.request("PATCH", path, { body: object, contentType: "application/apply-patch+yaml", query: { fieldManager: FIELD_MANAGER, force: true } });
        } catch (error) {
          throw new Error(describe(error), { cause: error });
        }
      }
    },
  };
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** The status code and the Status message, not the whole response. */
function describe(error: unknown): string {
  if (error instanceof KubeApiError) return `kubernetes API: HTTP ${error.code}${error.status.message ? `: ${error.status.message}` : ""}`;
  return `kubernetes API: ${error instanceof Error ? error.message : String(error)}`;
}
