// Objects the fake API server tests share.
import { API_VERSION } from "../../crds/kinds.ts";
import type { KubeObject } from "../harness/kube/index.ts";

export const NAMESPACE = "customers";

export function hostedSite(name: string, spec: Record<string, unknown> = {}, namespace = NAMESPACE): KubeObject {
  return {
    apiVersion: API_VERSION,
    kind: "HostedSite",
    metadata: { name, namespace },
    spec: {
      domain: `${name}.sites.example.com`,
      profile: "openatrium",
      userQuota: 10,
      support: { tier: "Basic" },
      owner: { email: `owner@${name}.example.com` },
      ...spec,
    },
  };
}

export const siteRef = (name: string, namespace = NAMESPACE) => ({ apiVersion: API_VERSION, kind: "HostedSite", name, namespace });

export function readyCondition(generation: number, status: "True" | "False" = "True") {
  return { type: "Ready", status, reason: status === "True" ? "Installed" : "Installing", message: "", lastTransitionTime: "2026-01-01T00:00:00Z", observedGeneration: generation };
}

/** Waits for `predicate` to hold, polling briefly: for conditions with no event to wait on. */
export async function eventually(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
