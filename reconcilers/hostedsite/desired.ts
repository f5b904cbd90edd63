// The desired state of one site, resolved from its spec and the AegirServers: which server and
// platform, the owner's account and role, whether the site should be up, the support access.
// Pure.
import type { AegirServer, HostedSite } from "../../crds/kinds.ts";
import type { HttpsMode } from "../aegir/state.ts";
import { siteAlias } from "../aegir/driver.ts";
import { MIGRATE_AFTER_ANNOTATION, PLATFORM_ANNOTATION, ownerName, trackerUsername } from "./names.ts";

export interface SupportTarget {
  /** The AegirServer hosting the tracker, and the tracker's drush alias there. */
  server: string;
  site: string;
  role: string;
  /** Every tier's role: the ones not granted are removed. */
  tierRoles: string[];
  account: string;
  mail: string;
}

export interface Desired {
  uri: string;
  alias: string;
  server: string;
  platform: string;
  /** Set when a rollout asked for the platform: the site's newest migrate task before it did. */
  migrateAfter: number | undefined;
  profile: string;
  aliases: string[];
  https: HttpsMode;
  features: string[];
  theme: string | undefined;
  userQuota: number;
  owner: { name: string; mail: string; role: string };
  /** Up and serving: not suspended, not expired, not being deleted. */
  enabled: boolean;
  suspended: boolean;
  expired: boolean;
  /** When the site expires, if later than now: the reconciler requeues exactly then. */
  expiresAt: Date | undefined;
  /** When the order's subscription will end, once its cancellation is scheduled (spec.order.cancelAt). */
  cancelAt: Date | undefined;
  deleting: boolean;
  deletionPolicy: "Delete" | "Retain";
  support: SupportTarget | undefined;
  /**
   * How long a recorded create attempt may still take effect, so it is not tried again before:
   * its command can run up to the server's write timeout (TERM, then KILL); twice that covers
   * the kill grace and clock skew between replicas.
   */
  createSettleMs: number;
}

export type Resolution = { desired: Desired } | { error: string; message: string };

/** The server the site lives on: spec.server, else the one recorded at placement. */
export function assignedServer(site: HostedSite): string | undefined {
  return site.spec.server ?? site.status?.server;
}

export function resolveDesired(site: HostedSite, serverName: string, servers: readonly AegirServer[], now: Date): Resolution {
  const server = servers.find((s) => s.metadata.name === serverName);
  if (server === undefined) return { error: "UnknownServer", message: `AegirServer ${serverName} does not exist` };
  const spec = site.spec;
  const deleting = site.metadata.deletionTimestamp !== undefined;
  const rollout = rolloutAnnotations(site);
  const wanted = spec.platform ?? rollout.platform;
  const configured = server.spec.platforms.find((p) => (wanted ? p.name === wanted : p.profile === spec.profile));
  const problem = platformProblem(site, wanted, serverName, configured);
  // Deletion only queues tasks on the site as it is: a platform taken out of the server's spec
  // since must not keep the finalizer, so the platform recorded at install stands in.
  if (problem !== undefined && !deleting) return problem;
  const platform = problem === undefined && configured !== undefined ? configured : { name: site.status?.platform ?? wanted ?? "", ownerRole: spec.owner.role ?? "" };
  const expiresAt = spec.expiresAt === undefined ? undefined : new Date(spec.expiresAt);
  const expired = expiresAt !== undefined && expiresAt.getTime() <= now.getTime();
  const name = ownerName(spec);
  return {
    desired: {
      uri: spec.domain,
      alias: siteAlias(spec.domain),
      server: serverName,
      createSettleMs: 2 * server.spec.commandTimeouts.writeSeconds * 1000,
      platform: platform.name,
      migrateAfter: spec.platform === undefined ? rollout.migrateAfter : undefined,
      profile: spec.profile,
      aliases: [...(spec.aliases ?? [])].sort(),
      https: spec.https,
      features: [...spec.features].sort(),
      theme: spec.theme,
      userQuota: spec.userQuota,
      owner: { name, mail: spec.owner.email, role: spec.owner.role ?? platform.ownerRole },
      enabled: !spec.suspended && !expired && !deleting,
      suspended: spec.suspended,
      expired,
      expiresAt: expiresAt !== undefined && !expired ? expiresAt : undefined,
      cancelAt: spec.order?.cancelAt === undefined ? undefined : new Date(spec.order.cancelAt),
      deleting,
      deletionPolicy: spec.deletionPolicy,
      support: supportTarget(site, servers),
    },
  };
}

/** What a PlatformRollout wrote on the site: its platform (wanted when spec.platform is empty) and the migrate baseline. */
export function rolloutAnnotations(site: HostedSite): { platform: string | undefined; migrateAfter: number | undefined } {
  const after = Number(site.metadata.annotations?.[MIGRATE_AFTER_ANNOTATION] ?? Number.NaN);
  return { platform: site.metadata.annotations?.[PLATFORM_ANNOTATION], migrateAfter: Number.isInteger(after) && after >= 0 ? after : undefined };
}

function platformProblem(site: HostedSite, wanted: string | undefined, serverName: string, platform: AegirServer["spec"]["platforms"][number] | undefined): { error: string; message: string } | undefined {
  const spec = site.spec;
  if (platform === undefined) {
    return {
      error: wanted ? "UnknownPlatform" : "NoPlatformForProfile",
      message: wanted
        ? `Platform ${wanted} is not configured on AegirServer ${serverName}`
        : `AegirServer ${serverName} has no platform for the ${spec.profile} profile`,
    };
  }
  if (platform.profile !== spec.profile) return { error: "ProfileNotOnPlatform", message: `Platform ${platform.name} serves ${platform.profile}, not ${spec.profile}` };
  return undefined;
}

/** The tracker is configured on one AegirServer (the first by name if several say so). */
function supportTarget(site: HostedSite, servers: readonly AegirServer[]): SupportTarget | undefined {
  const host = [...servers].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)).find((s) => s.spec.supportTracker);
  const tracker = host?.spec.supportTracker;
  if (host === undefined || tracker === undefined) return undefined;
  return {
    server: host.metadata.name,
    site: tracker.site,
    role: tracker.tierRoles[site.spec.support.tier],
    tierRoles: [...new Set(Object.values(tracker.tierRoles))].sort(),
    account: trackerUsername(site.spec.owner.email),
    mail: site.spec.owner.email,
  };
}
