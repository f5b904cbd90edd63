// Writes to HostedSites and AegirServers: finalizers and annotations on the object, status
// through the /status subresource, each retried on conflict with a fresh read.
import { API_VERSION, type AegirServer, type HostedSite } from "../../crds/kinds.ts";
import type { AegirServerStatus } from "../../crds/aegirserver.ts";
import type { HostedSiteStatus } from "../../crds/hostedsite.ts";
import type { HostedSiteStore } from "../../reconcilers/hostedsite/reconciler.ts";
import type { AegirServerStore } from "../../reconcilers/aegirserver/reconciler.ts";
import { mergePatch } from "../../crds/json.ts";
import { isConflict, type KubeRest } from "../../common/kube/rest.ts";

const CONFLICT_RETRIES = 5;

export const hostedSitePath = (namespace: string, name?: string) =>
  `/apis/${API_VERSION}/namespaces/${namespace}/hostedsites${name === undefined ? "" : `/${name}`}`;
export const aegirServerPath = (name?: string) => `/apis/${API_VERSION}/aegirservers${name === undefined ? "" : `/${name}`}`;

/** Read-modify-write with the object's resourceVersion as precondition; a conflict re-reads and retries. */
export async function withConflictRetry<T extends { metadata: { resourceVersion?: string } }>(
  rest: KubeRest,
  path: string,
  start: T,
  write: (latest: T) => Promise<T>,
): Promise<T> {
  let latest = start;
  for (let attempt = 0; ; attempt++) {
    try {
      return await write(latest);
    } catch (error) {
      if (!isConflict(error) || attempt >= CONFLICT_RETRIES) throw error;
      latest = await rest.request<T>("GET", path);
    }
  }
}

/**
 * A merge patch from the status the reconcile started from (removed fields nulled), with that
 * object's resourceVersion as precondition: a reconcile working from a stale cache gets 409
 * instead of writing back conditions older than what is stored (found by the chaos suite: a new
 * leader whose informer lagged overwrote its own fresh status with the cached one).
 */
export async function patchStatus<T extends { metadata: { resourceVersion?: string }; status?: unknown }>(rest: KubeRest, path: string, object: T, status: unknown): Promise<T> {
  const patch = mergePatch(object.status ?? {}, status);
  if (patch === undefined) return object;
  const metadata = object.metadata.resourceVersion === undefined ? {} : { metadata: { resourceVersion: object.metadata.resourceVersion } };
  return rest.request<T>("PATCH", `${path}/status`, { body: { ...metadata, status: patch }, contentType: "application/merge-patch+json" });
}

export function finalizerPatch<T extends { metadata: { resourceVersion?: string; finalizers?: string[] } }>(object: T, finalizers: string[]) {
  return { metadata: { resourceVersion: object.metadata.resourceVersion, finalizers } };
}

export class KubeHostedSiteStore implements HostedSiteStore {
  private readonly rest: KubeRest;

  constructor(rest: KubeRest) {
    this.rest = rest;
  }

  addFinalizer(site: HostedSite, finalizer: string): Promise<HostedSite> {
    const path = hostedSitePath(site.metadata.namespace, site.metadata.name);
    return withConflictRetry(this.rest, path, site, (latest) =>
      latest.metadata.finalizers?.includes(finalizer)
        ? Promise.resolve(latest)
        : this.rest.request<HostedSite>("PATCH", path, {
            body: finalizerPatch(latest, [...(latest.metadata.finalizers ?? []), finalizer]),
            contentType: "application/merge-patch+json",
          }),
    );
  }

  async removeFinalizer(site: HostedSite, finalizer: string): Promise<void> {
    const path = hostedSitePath(site.metadata.namespace, site.metadata.name);
    await withConflictRetry(this.rest, path, site, (latest) =>
      this.rest.request<HostedSite>("PATCH", path, {
        body: finalizerPatch(latest, (latest.metadata.finalizers ?? []).filter((f) => f !== finalizer)),
        contentType: "application/merge-patch+json",
      }),
    );
  }

  /**
   * With the object's resourceVersion as precondition, like the status writes: an intent written
   * from a stale copy gets 409, so the reconcile looks again before any call it guards.
   */
  annotate(site: HostedSite, annotations: Record<string, string | null>): Promise<HostedSite> {
    return this.rest.request<HostedSite>("PATCH", hostedSitePath(site.metadata.namespace, site.metadata.name), {
      body: { metadata: { resourceVersion: site.metadata.resourceVersion, annotations } },
      contentType: "application/merge-patch+json",
    });
  }

  updateStatus(site: HostedSite, status: HostedSiteStatus): Promise<HostedSite> {
    return patchStatus(this.rest, hostedSitePath(site.metadata.namespace, site.metadata.name), site, status);
  }
}

export class KubeAegirServerStore implements AegirServerStore {
  private readonly rest: KubeRest;

  constructor(rest: KubeRest) {
    this.rest = rest;
  }

  updateStatus(server: AegirServer, status: AegirServerStatus): Promise<AegirServer> {
    return patchStatus(this.rest, aegirServerPath(server.metadata.name), server, status);
  }

  /** status.pool alone, unconditionally: the SitePool controller's field, not the probe's. */
  async patchPool(name: string, pool: NonNullable<AegirServerStatus["pool"]>): Promise<void> {
    await this.rest.request<AegirServer>("PATCH", `${aegirServerPath(name)}/status`, { body: { status: { pool } }, contentType: "application/merge-patch+json" });
  }
}
