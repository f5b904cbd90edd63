// The kinds this operator defines: everything the CRD generator and the manifest validator
// need to know about each, in one table.
import { z } from "zod";
import { AegirServerSpec, AegirServerStatus } from "./aegirserver.ts";
import { API_VERSION, CATEGORY, GROUP, VERSION } from "./group.ts";
import { HostedSiteSpec, HostedSiteStatus } from "./hostedsite.ts";
import { HostedSpaceSpec, HostedSpaceStatus } from "./hostedspace.ts";
import { HostedSiteRestoreSpec, HostedSiteRestoreStatus } from "./hostedsiterestore.ts";
import { ObjectMeta } from "./metadata.ts";
import { PlatformRolloutSpec, PlatformRolloutStatus } from "./platformrollout.ts";
import { SitePoolSpec, SitePoolStatus } from "./sitepool.ts";

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface KindDefinition<Spec extends z.ZodType = z.ZodType, Status extends z.ZodType = z.ZodType> {
  kind: string;
  plural: string;
  singular: string;
  listKind: string;
  shortNames: string[];
  scope: "Namespaced" | "Cluster";
  description: string;
  spec: Spec;
  status: Status;
  printerColumns: PrinterColumn[];
}

const readyStatus = '.status.conditions[?(@.type=="Ready")].status';
const readyReason = '.status.conditions[?(@.type=="Ready")].reason';

export const HostedSiteKind: KindDefinition<typeof HostedSiteSpec, typeof HostedSiteStatus> = {
  kind: "HostedSite",
  plural: "hostedsites",
  singular: "hostedsite",
  listKind: "HostedSiteList",
  shortNames: ["hs"],
  scope: "Namespaced",
  description: "A customer's hosted Drupal site on Aegir, as ordered",
  spec: HostedSiteSpec,
  status: HostedSiteStatus,
  printerColumns: [
    { name: "Domain", type: "string", jsonPath: ".spec.domain" },
    { name: "Profile", type: "string", jsonPath: ".spec.profile" },
    { name: "Tier", type: "string", jsonPath: ".spec.support.tier" },
    { name: "Ready", type: "string", jsonPath: readyStatus },
    { name: "Reason", type: "string", jsonPath: readyReason },
    // A string, not a date: kubectl prints a date column as an age, and a future time as <invalid>.
    { name: "Cancels", type: "string", jsonPath: ".spec.order.cancelAt", description: "When the subscription ends, once its cancellation is scheduled" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
};

export const AegirServerKind: KindDefinition<typeof AegirServerSpec, typeof AegirServerStatus> = {
  kind: "AegirServer",
  plural: "aegirservers",
  singular: "aegirserver",
  listKind: "AegirServerList",
  shortNames: ["as"],
  scope: "Cluster",
  description: "An Aegir hostmaster server reached over SSH",
  spec: AegirServerSpec,
  status: AegirServerStatus,
  printerColumns: [
    { name: "Host", type: "string", jsonPath: ".spec.host" },
    { name: "Sites", type: "integer", jsonPath: ".status.sites.total" },
    { name: "Max", type: "integer", jsonPath: ".spec.capacity.maxSites" },
    { name: "Spares", type: "string", jsonPath: ".status.pool.spares" },
    { name: "Reachable", type: "string", jsonPath: '.status.conditions[?(@.type=="Reachable")].status' },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
};

export const HostedSpaceKind: KindDefinition<typeof HostedSpaceSpec, typeof HostedSpaceStatus> = {
  kind: "HostedSpace",
  plural: "hostedspaces",
  singular: "hostedspace",
  listKind: "HostedSpaceList",
  shortNames: ["hsp"],
  scope: "Namespaced",
  description: "A customer's Open Atrium space in a shared site (the free and demo tier)",
  spec: HostedSpaceSpec,
  status: HostedSpaceStatus,
  printerColumns: [
    { name: "Site", type: "string", jsonPath: ".status.siteUri" },
    { name: "Space", type: "string", jsonPath: ".spec.machineName" },
    { name: "Members", type: "integer", jsonPath: ".status.members.active" },
    { name: "Quota", type: "integer", jsonPath: ".spec.memberQuota" },
    { name: "Ready", type: "string", jsonPath: readyStatus },
    { name: "Reason", type: "string", jsonPath: readyReason },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
};

export const SitePoolKind: KindDefinition<typeof SitePoolSpec, typeof SitePoolStatus> = {
  kind: "SitePool",
  plural: "sitepools",
  singular: "sitepool",
  listKind: "SitePoolList",
  shortNames: ["sp"],
  scope: "Cluster",
  description: "Spare sites of one platform on one Aegir server, installed ahead of orders",
  spec: SitePoolSpec,
  status: SitePoolStatus,
  printerColumns: [
    { name: "Server", type: "string", jsonPath: ".spec.server" },
    { name: "Platform", type: "string", jsonPath: ".spec.platform" },
    { name: "Target", type: "integer", jsonPath: ".status.target" },
    { name: "Ready", type: "integer", jsonPath: ".status.ready" },
    { name: "Installing", type: "integer", jsonPath: ".status.installing" },
    { name: "Claimed", type: "integer", jsonPath: ".status.claimed" },
    { name: "Orders/h", type: "number", jsonPath: ".status.orderRatePerHour", priority: 1 },
    // How refills are made now: Cloning, InstallRequested or CloneRefused.
    { name: "Refill", type: "string", jsonPath: '.status.conditions[?(@.type=="RefillByClone")].reason', priority: 1 },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
};

export const HostedSiteRestoreKind: KindDefinition<typeof HostedSiteRestoreSpec, typeof HostedSiteRestoreStatus> = {
  kind: "HostedSiteRestore",
  plural: "hostedsiterestores",
  singular: "hostedsiterestore",
  listKind: "HostedSiteRestoreList",
  shortNames: ["hsr"],
  scope: "Namespaced",
  description: "A request to restore a HostedSite from one of its Aegir backups",
  spec: HostedSiteRestoreSpec,
  status: HostedSiteRestoreStatus,
  printerColumns: [
    { name: "Site", type: "string", jsonPath: ".spec.site" },
    { name: "Phase", type: "string", jsonPath: ".status.phase" },
    { name: "Task", type: "integer", jsonPath: ".status.task" },
    { name: "Backup", type: "string", jsonPath: ".status.backup", priority: 1 },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
};

export const PlatformRolloutKind: KindDefinition<typeof PlatformRolloutSpec, typeof PlatformRolloutStatus> = {
  kind: "PlatformRollout",
  plural: "platformrollouts",
  singular: "platformrollout",
  listKind: "PlatformRolloutList",
  shortNames: ["pr"],
  // Like the AegirServers whose platforms it names: one upgrade spans every customer namespace.
  scope: "Cluster",
  description: "Moves the selected HostedSites from one Aegir platform to another in rolling batches",
  spec: PlatformRolloutSpec,
  status: PlatformRolloutStatus,
  printerColumns: [
    { name: "From", type: "string", jsonPath: ".spec.fromPlatform" },
    { name: "To", type: "string", jsonPath: ".spec.toPlatform" },
    { name: "Done", type: "integer", jsonPath: ".status.done" },
    { name: "Failed", type: "integer", jsonPath: ".status.failed" },
    { name: "Remaining", type: "integer", jsonPath: ".status.remaining" },
    { name: "Skipped", type: "integer", jsonPath: ".status.skipped", priority: 1 },
    { name: "Paused", type: "string", jsonPath: '.status.conditions[?(@.type=="Paused")].status' },
    { name: "Complete", type: "string", jsonPath: '.status.conditions[?(@.type=="Complete")].status' },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
};

export const KINDS = [HostedSiteKind, AegirServerKind, HostedSpaceKind, HostedSiteRestoreKind, SitePoolKind, PlatformRolloutKind] as const;

export { API_VERSION, CATEGORY, GROUP, VERSION };

/** Zod schema of a whole object of this kind, as found in a manifest. */
export function objectSchema(def: KindDefinition) {
  const metadata =
    def.scope === "Cluster"
      ? ObjectMeta.refine((m) => m.namespace === undefined, {
          error: `must not be set: ${def.kind} is cluster-scoped`,
          path: ["namespace"],
        })
      : ObjectMeta;
  return z.strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(def.kind),
    metadata,
    spec: def.spec,
    status: def.status.optional(),
  });
}

/** Object metadata as the API server returns it (the fields the operator reads). */
export interface StoredMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
}

export interface HostedSite {
  apiVersion: typeof API_VERSION;
  kind: "HostedSite";
  metadata: StoredMeta & { namespace: string };
  spec: HostedSiteSpec;
  status?: HostedSiteStatus;
}

export interface HostedSpace {
  apiVersion: typeof API_VERSION;
  kind: "HostedSpace";
  metadata: StoredMeta & { namespace: string };
  spec: HostedSpaceSpec;
  status?: HostedSpaceStatus;
}

export interface HostedSiteRestore {
  apiVersion: typeof API_VERSION;
  kind: "HostedSiteRestore";
  metadata: StoredMeta & { namespace: string };
  spec: HostedSiteRestoreSpec;
  status?: HostedSiteRestoreStatus;
}

export interface AegirServer {
  apiVersion: typeof API_VERSION;
  kind: "AegirServer";
  metadata: StoredMeta;
  spec: AegirServerSpec;
  status?: AegirServerStatus;
}

export interface PlatformRollout {
  apiVersion: typeof API_VERSION;
  kind: "PlatformRollout";
  metadata: StoredMeta;
  spec: PlatformRolloutSpec;
  status?: PlatformRolloutStatus;
}

export interface SitePool {
  apiVersion: typeof API_VERSION;
  kind: "SitePool";
  metadata: StoredMeta;
  spec: SitePoolSpec;
  status?: SitePoolStatus;
}
