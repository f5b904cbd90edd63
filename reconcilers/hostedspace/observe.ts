// Observe one space, in tiers: the shared site's batched space list always (shared by every
// space of the site within a poll), the deep read of the owner only when asked.
import type { SpaceDriver } from "../aegir/spaces.ts";
import type { SpaceDesired } from "./desired.ts";
import type { SpaceObserved } from "./plan.ts";
import type { SpaceIndex } from "./space-lists.ts";

export async function observeSpace(options: { desired: SpaceDesired; list: () => Promise<SpaceIndex>; driver: SpaceDriver; deep: boolean }): Promise<SpaceObserved> {
  const { desired } = options;
  const list = await options.list();
  const space = list.spaces.get(desired.machine);
  const wantsDeep = options.deep && !desired.deleting && !desired.archived;
  const deep = wantsDeep ? await options.driver.state(desired.uri, desired.machine, desired.owner) : undefined;
  return { module: list.module, space, deep };
}
