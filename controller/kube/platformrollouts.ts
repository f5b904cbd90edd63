// PlatformRollouts in the API: their collection path, what the informer cache keeps of each, the
// status writes, and the platform annotations the rollout writes on HostedSites.
import type { KubeRest } from "../../common/kube/rest.ts";
import { API_VERSION } from "../../crds/group.ts";
import type { PlatformRollout } from "../../crds/kinds.ts";
import { PlatformRolloutSpec, PlatformRolloutStatus } from "../../crds/platformrollout.ts";
import type { RolloutStore } from "../../reconcilers/platformrollout/reconciler.ts";
import { StringInterner, leanMetadata } from "./cache-objects.ts";
import { hostedSitePath, patchStatus } from "./stores.ts";

export const platformRolloutPath = (name?: string) => `/apis/${API_VERSION}/platformrollouts${name === undefined ? "" : `/${name}`}`;

export function platformRolloutParser(interner = new StringInterner()) {
  return (raw: unknown): PlatformRollout | undefined => {
    const o = raw as { metadata?: Record<string, unknown>; spec?: unknown; status?: unknown } | null | undefined;
    const metadata = o?.metadata === undefined ? undefined : leanMetadata(o.metadata, interner);
    if (metadata === undefined) return undefined;
    const spec = PlatformRolloutSpec.safeParse(o?.spec);
    if (!spec.success) return undefined;
    const status = o?.status === undefined ? undefined : PlatformRolloutStatus.safeParse(o.status);
    return { apiVersion: API_VERSION, kind: "PlatformRollout", metadata, spec: spec.data, ...(status?.success ? { status: status.data } : {}) };
  };
}

export class KubeRolloutStore implements RolloutStore {
  private readonly rest: KubeRest;

  constructor(rest: KubeRest) {
    this.rest = rest;
  }

  updateStatus(rollout: PlatformRollout, status: PlatformRolloutStatus): Promise<PlatformRollout> {
    return patchStatus(this.rest, platformRolloutPath(rollout.metadata.name), rollout, status);
  }

  /** Without a resourceVersion: the rollout owns these two annotations, and they are the same whatever else changed. */
  async annotateSite(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    await this.rest.request("PATCH", hostedSitePath(namespace, name), { body: { metadata: { annotations } }, contentType: "application/merge-patch+json" });
  }
}
