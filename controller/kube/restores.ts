// HostedSiteRestores in the API: their collection path, what the informer cache keeps of each,
// and the status writes.
import type { KubeRest } from "../../common/kube/rest.ts";
import { API_VERSION } from "../../crds/group.ts";
import { HostedSiteRestoreSpec, HostedSiteRestoreStatus } from "../../crds/hostedsiterestore.ts";
import type { HostedSiteRestore } from "../../crds/kinds.ts";
import type { RestoreStore } from "../../reconcilers/restore/reconciler.ts";
import { StringInterner, leanMetadata } from "./cache-objects.ts";
import { patchStatus } from "./stores.ts";

export const restorePath = (namespace?: string, name?: string) =>
  `/apis/${API_VERSION}/${namespace === undefined ? "" : `namespaces/${namespace}/`}hostedsiterestores${name === undefined ? "" : `/${name}`}`;

export function restoreParser(interner = new StringInterner()) {
  return (raw: unknown): HostedSiteRestore | undefined => {
    const o = raw as { metadata?: Record<string, unknown>; spec?: unknown; status?: unknown } | null | undefined;
    const metadata = o?.metadata === undefined ? undefined : leanMetadata(o.metadata, interner);
    if (metadata?.namespace === undefined) return undefined;
    const spec = HostedSiteRestoreSpec.safeParse(o?.spec);
    if (!spec.success) return undefined;
    const status = o?.status === undefined ? undefined : HostedSiteRestoreStatus.safeParse(o.status);
    return {
      apiVersion: API_VERSION,
      kind: "HostedSiteRestore",
      metadata: { ...metadata, namespace: metadata.namespace },
      spec: spec.data,
      ...(status?.success ? { status: status.data } : {}),
    };
  };
}

export class KubeRestoreStore implements RestoreStore {
  private readonly rest: KubeRest;

  constructor(rest: KubeRest) {
    this.rest = rest;
  }

  updateStatus(restore: HostedSiteRestore, status: HostedSiteRestoreStatus): Promise<HostedSiteRestore> {
    return patchStatus(this.rest, restorePath(restore.metadata.namespace, restore.metadata.name), restore, status);
  }
}
