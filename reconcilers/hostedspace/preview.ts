// What a reconcile of a HostedSpace would do now, without doing it: resolve, observe (deep),
// plan. `aegir-operator plan` prints it.
import type { HostedSite, HostedSpace } from "../../crds/kinds.ts";
import type { AegirDriver } from "../aegir/driver.ts";
import { SpaceDriver } from "../aegir/spaces.ts";
import { resolveSpace, type SpaceDesired } from "./desired.ts";
import { observeSpace } from "./observe.ts";
import { planSpace, type SpaceObserved, type SpacePlan } from "./plan.ts";
import { indexList } from "./space-lists.ts";
import { validOwnerUid } from "./status.ts";

export type SpacePreview = { desired: SpaceDesired; observed: SpaceObserved; plan: SpacePlan } | { error: string; message: string };

/** Throws the AegirError when the shared site cannot be read. */
export async function previewSpace(space: HostedSpace, world: { sites: readonly HostedSite[]; driver: (server: string) => AegirDriver; now: Date }): Promise<SpacePreview> {
  const resolved = resolveSpace(space, world.sites, world.now);
  if ("error" in resolved) return resolved;
  const { desired } = resolved;
  const driver = new SpaceDriver(world.driver(desired.server));
  const list = indexList(await driver.list(desired.uri));
  const observed = await observeSpace({ desired, list: () => Promise.resolve(list), driver, deep: true });
  const plan = planSpace(desired, observed, { ownerUid: validOwnerUid(observed) ?? space.status?.owner?.uid, welcomed: space.status?.owner?.welcomedAt !== undefined, blocked: new Set() });
  return { desired, observed, plan };
}
