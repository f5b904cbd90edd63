// What a reconcile would do now, without doing it: place, resolve, observe (deep), plan.
// `aegir-operator plan` prints it.
import type { HostedSite } from "../../crds/kinds.ts";
import type { Desired } from "./desired.ts";
import type { Observed, Plan } from "./plan.ts";
import { locate, prepare, type World } from "./prepare.ts";

export type Preview =
  | { server: string; placed: boolean; desired: Desired; observed: Observed; plan: Plan }
  | { error: string; message: string };

/** Throws the AegirError when a server cannot be read. */
export async function previewSite(site: HostedSite, world: World): Promise<Preview> {
  const location = await locate(site, world);
  if ("error" in location) return location;
  const prepared = await prepare(site, location.server, world, { deep: true, blocked: new Set() });
  if (prepared.kind === "unreachable") throw prepared.error;
  if (prepared.kind === "problem") return { error: prepared.reason, message: prepared.message };
  return { server: location.server, placed: location.placed, desired: prepared.desired, observed: prepared.observed, plan: prepared.plan };
}
