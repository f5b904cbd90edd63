// The production SiteApplier: server-side apply through @kubernetes/client-node, as field manager
// `stripe-webhook`. Kubeconfig from KUBECONFIG, ~/.kube/config or the in-cluster service account.
import { ApiException, KubeConfig, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import { FIELD_MANAGER } from "./hostedsite-manifest.ts";
import type { SiteApplier } from "./relay.ts";

export function kubeApplier(kubeConfig?: KubeConfig): SiteApplier {
  const kc = kubeConfig ?? defaultKubeConfig();
  const api = KubernetesObjectApi.makeApiClient(kc);
  return {
    async apply(manifest) {
      try {
        // force: the webhook's own fields are the webhook's, even if someone edited them by hand.
        await api.patch(manifest, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      } catch (error) {
        throw new Error(describe(error), { cause: error });
      }
    },
  };
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** ApiException messages embed the whole response; keep the status code and the Status message. */
function describe(error: unknown): string {
  if (error instanceof ApiException) {
    let message = "";
    try {
      const body: unknown = JSON.parse(String(error.body));
      if (typeof body === "object" && body !== null && "message" in body && typeof body.message === "string") message = body.message;
    } catch {
      message = String(error.body).slice(0, 300);
    }
    return `kubernetes API: HTTP ${error.code}${message === "" ? "" : `: ${message}`}`;
  }
  return `kubernetes API: ${error instanceof Error ? error.message : String(error)}`;
}
