// Names the HostedSpace reconciler writes.
import { GROUP } from "../../crds/group.ts";
import type { HostedSpaceSpec } from "../../crds/hostedspace.ts";
import { trackerUsername } from "../hostedsite/names.ts";

export const SPACE_FINALIZER = `${GROUP}/aegir-space`;

/**
 * The owner's account name on the shared site: spec.owner.name, else one per e-mail address (as on
 * the support tracker). The local part alone would hand one customer's account, and the login
 * link sent to it, to every other customer whose address starts the same (ada@acme, ada@tinker).
 */
export function spaceOwnerName(spec: Pick<HostedSpaceSpec, "owner">): string {
  return spec.owner.name ?? trackerUsername(spec.owner.email);
}
