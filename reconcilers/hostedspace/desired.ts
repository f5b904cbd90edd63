// The desired state of one space, resolved from its spec and the shared site it names: which
// server and site, the space's settings, the owner, whether the space should be published. Pure.
import type { HostedSite, HostedSpace } from "../../crds/kinds.ts";
import type { SpaceSettings } from "../aegir/spaces.ts";
import { spaceOwnerName } from "./names.ts";

export interface SpaceDesired {
  server: string;
  /** The shared site's URI. */
  uri: string;
  /** Scheme the shared site is served with, for the space's URL. */
  https: boolean;
  machine: string;
  settings: SpaceSettings;
  owner: { name: string; mail: string };
  suspended: boolean;
  expired: boolean;
  /** Archived (unpublished, content kept): suspended or expired. */
  archived: boolean;
  /** The HostedSite (not Ready yet) that replaces the space: its expiry waits for it. */
  heldFor: string | undefined;
  /** When the space expires, if later than now: the reconciler requeues exactly then. */
  expiresAt: Date | undefined;
  deleting: boolean;
  deletionPolicy: "Delete" | "Retain";
}

export type SpaceResolution = { desired: SpaceDesired } | { error: string; message: string };

export function resolveSpace(space: HostedSpace, sites: readonly HostedSite[], now: Date): SpaceResolution {
  const spec = space.spec;
  const shared = sharedSite(space, sites);
  if ("error" in shared) return shared;
  // An upgraded customer keeps the space until the new site is Ready; then the expiry applies.
  const held = spec.supersededBy !== undefined && !isReady(sites.find((s) => s.metadata.namespace === space.metadata.namespace && s.metadata.name === spec.supersededBy?.hostedSite));
  const expiresAt = spec.expiresAt === undefined || held ? undefined : new Date(spec.expiresAt);
  const expired = expiresAt !== undefined && expiresAt.getTime() <= now.getTime();
  const archived = spec.suspended || expired;
  return {
    desired: {
      ...shared,
      machine: spec.machineName,
      settings: { title: spec.title, public: spec.visibility === "Public", blueprint: spec.blueprint, published: !archived, quota: spec.memberQuota },
      owner: { name: spaceOwnerName(spec), mail: spec.owner.email },
      suspended: spec.suspended,
      expired,
      archived,
      heldFor: held ? spec.supersededBy?.hostedSite : undefined,
      expiresAt: expiresAt !== undefined && !expired ? expiresAt : undefined,
      deleting: space.metadata.deletionTimestamp !== undefined,
      deletionPolicy: spec.deletionPolicy,
    },
  };
}

/** The server and URI of the shared site: given, or the named HostedSite's once it is installed. */
function sharedSite(space: HostedSpace, sites: readonly HostedSite[]): { server: string; uri: string; https: boolean } | { error: string; message: string } {
  const ref = space.spec.site;
  if (ref.uri !== undefined && ref.server !== undefined) return { server: ref.server, uri: ref.uri, https: false };
  const site = sites.find((s) => s.metadata.namespace === space.metadata.namespace && s.metadata.name === ref.hostedSite);
  if (site === undefined) return { error: "SharedSiteNotFound", message: `HostedSite ${ref.hostedSite ?? ""} does not exist in namespace ${space.metadata.namespace}` };
  const installed = site.status?.conditions?.find((c) => c.type === "Installed")?.status === "True";
  if (site.status?.server === undefined || !installed) return { error: "WaitingForSharedSite", message: `Waits until HostedSite ${site.metadata.name} is installed` };
  return { server: site.status.server, uri: site.spec.domain, https: site.spec.https !== "Disabled" };
}

const isReady = (site: HostedSite | undefined) => site?.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";

/** The HostedSites a space follows (for watches): its shared site and the site superseding it, as namespace/name. */
export function watchedSiteKeys(space: HostedSpace): string[] {
  return [space.spec.site.hostedSite, space.spec.supersededBy?.hostedSite].flatMap((name) => (name === undefined ? [] : [`${space.metadata.namespace}/${name}`]));
}
