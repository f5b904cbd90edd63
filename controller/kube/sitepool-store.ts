// Reads and status writes of SitePools. The status is the claim record, so a write is a merge
// patch guarded by the resourceVersion of the copy it was computed from, and is not retried
// here: a 409 means someone else (a claim on another replica, the pool controller) wrote first,
// and the caller decides again from a fresh read.
import { API_VERSION, type SitePool } from "../../crds/kinds.ts";
import type { SitePoolStatus } from "../../crds/sitepool.ts";
import { mergePatch } from "../../crds/json.ts";
import type { KubeRest } from "../../common/kube/rest.ts";
import type { SitePoolStore } from "../../reconcilers/sitepool/reconciler.ts";

export const sitePoolPath = (name?: string) => `/apis/${API_VERSION}/sitepools${name === undefined ? "" : `/${name}`}`;

export class KubeSitePoolStore implements SitePoolStore {
  private readonly rest: KubeRest;

  constructor(rest: KubeRest) {
    this.rest = rest;
  }

  get(name: string): Promise<SitePool> {
    return this.rest.request<SitePool>("GET", sitePoolPath(name));
  }

  async updateStatus(pool: SitePool, status: SitePoolStatus): Promise<SitePool> {
    const patch = mergePatch(pool.status ?? {}, status);
    if (patch === undefined) return pool;
    return this.rest.request<SitePool>("PATCH", `${sitePoolPath(pool.metadata.name)}/status`, {
      body: { metadata: { resourceVersion: pool.metadata.resourceVersion }, status: patch },
      contentType: "application/merge-patch+json",
    });
  }
}
