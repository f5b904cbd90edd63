// The shared sites' space lists, cached: one batched read per shared site within half a poll,
// indexed by machine name, and kept current from the writes' answers (each write prints its
// space's row) instead of read again, so N new spaces on one site cost O(N), not O(N²).
import type { AegirDriver } from "../aegir/driver.ts";
import { SpaceDriver, type SpaceList, type SpaceSummary } from "../aegir/spaces.ts";
import { ServerStatusCache } from "../hostedsite/server-status-cache.ts";
import type { SpaceDesired } from "./desired.ts";

/** A shared site's managed spaces by machine name, and the quota module's version (null: not enabled). */
export interface SpaceIndex {
  module: string | null;
  spaces: Map<string, SpaceSummary>;
}

export type SpaceListCache = ServerStatusCache<SpaceIndex>;

/** What one space's writes left on the site: its row (null: gone) and the module's version. */
export interface SpaceWrites {
  row?: SpaceSummary | null;
  module?: string;
}

/** The key of a shared site in the cache. */
export const sharedSiteCacheKey = (desired: Pick<SpaceDesired, "server" | "uri">) => `${desired.server} ${desired.uri}`;

export function spaceListCache(options: { driver: (server: string) => AegirDriver; now: () => number; maxAgeMs: number }): SpaceListCache {
  return new ServerStatusCache<SpaceIndex>({
    fetch: async (key) => {
      const [server = "", uri = ""] = key.split(" ");
      return indexList(await new SpaceDriver(options.driver(server)).list(uri));
    },
    now: options.now,
    maxAgeMs: options.maxAgeMs,
  });
}

export function indexList(list: SpaceList): SpaceIndex {
  return { module: list.module, spaces: new Map(list.spaces.map((s) => [s.machine, s])) };
}

/** The cached index after one space's writes (changed in place: the cache owns it). */
export function applyWrites(index: SpaceIndex, machine: string, written: SpaceWrites): SpaceIndex {
  if (written.module !== undefined) index.module = written.module;
  if (written.row === null) index.spaces.delete(machine);
  else if (written.row !== undefined) index.spaces.set(machine, written.row);
  return index;
}
