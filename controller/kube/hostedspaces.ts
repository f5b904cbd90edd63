// HostedSpaces in the API: what the informer cache keeps of each (validated spec and status,
// lean metadata), and the reconciler's writes (finalizer, status) with conflict retries.
import { HostedSpaceSpec, HostedSpaceStatus } from "../../crds/hostedspace.ts";
import { API_VERSION, type HostedSpace } from "../../crds/kinds.ts";
import type { HostedSpaceStore } from "../../reconcilers/hostedspace/reconciler.ts";
import { leanMetadata, StringInterner } from "./cache-objects.ts";
import type { KubeRest } from "../../common/kube/rest.ts";
import { finalizerPatch, patchStatus, withConflictRetry } from "./stores.ts";

export const hostedSpacesPath = () => `/apis/${API_VERSION}/hostedspaces`;
export const hostedSpacePath = (namespace: string, name: string) => `/apis/${API_VERSION}/namespaces/${namespace}/hostedspaces/${name}`;

export function parseSpace(interner = new StringInterner()) {
  return (raw: unknown): HostedSpace | undefined => {
    const o = raw as { metadata?: Record<string, unknown>; spec?: unknown; status?: unknown } | null | undefined;
    const metadata = o?.metadata === undefined ? undefined : leanMetadata(o.metadata, interner);
    if (metadata?.namespace === undefined) return undefined;
    const spec = HostedSpaceSpec.safeParse(o?.spec);
    if (!spec.success) return undefined;
    const status = o?.status === undefined ? undefined : HostedSpaceStatus.safeParse(o.status);
    return {
      apiVersion: API_VERSION,
      kind: "HostedSpace",
      metadata: { ...metadata, namespace: metadata.namespace },
      spec: interner.internDeep(spec.data),
      ...(status?.success ? { status: interner.internDeep(status.data) } : {}),
    };
  };
}

export class KubeHostedSpaceStore implements HostedSpaceStore {
  private readonly rest: KubeRest;

  constructor(rest: KubeRest) {
    this.rest = rest;
  }

  addFinalizer(space: HostedSpace, finalizer: string): Promise<HostedSpace> {
    const path = hostedSpacePath(space.metadata.namespace, space.metadata.name);
    return withConflictRetry(this.rest, path, space, (latest) =>
      latest.metadata.finalizers?.includes(finalizer)
        ? Promise.resolve(latest)
        : this.rest.request<HostedSpace>("PATCH", path, { body: finalizerPatch(latest, [...(latest.metadata.finalizers ?? []), finalizer]), contentType: "application/merge-patch+json" }),
    );
  }

  async removeFinalizer(space: HostedSpace, finalizer: string): Promise<void> {
    const path = hostedSpacePath(space.metadata.namespace, space.metadata.name);
    await withConflictRetry(this.rest, path, space, (latest) =>
      this.rest.request<HostedSpace>("PATCH", path, { body: finalizerPatch(latest, (latest.metadata.finalizers ?? []).filter((f) => f !== finalizer)), contentType: "application/merge-patch+json" }),
    );
  }

  updateStatus(space: HostedSpace, status: HostedSpaceStatus): Promise<HostedSpace> {
    return patchStatus(this.rest, hostedSpacePath(space.metadata.namespace, space.metadata.name), space, status);
  }
}
