// SitePool (cluster-scoped): spare sites of one platform on one AegirServer, installed ahead of
// demand under placeholder domains, which new HostedSites claim instead of waiting for an install.
import { z } from "zod";
import { conditionList } from "./conditions.ts";
import { dns1123Subdomain, fqdn, machineName, rfc3339, uniqueList } from "./primitives.ts";

/** The default placeholder zone: `.invalid` never resolves (RFC 2606), so a spare is never served. */
export const DEFAULT_PLACEHOLDER_ZONE = "pool.invalid";

export const REFILL_KINDS = ["Clone", "Install"] as const;

const count = (description: string, fallback: number) =>
  z.int({ error: "must be a whole number" }).min(0).max(50).default(fallback).meta({ description });

/** A duration the pool assumes until Aegir has shown one, whole seconds up to a day. */
const expectedSeconds = (description: string, fallback: number) =>
  z.int({ error: "must be a whole number" }).min(1).max(86_400).default(fallback).meta({ description });

export const SitePoolSpec = z
  .strictObject({
    server: dns1123Subdomain().meta({ description: "AegirServer the spares live on" }),
    platform: machineName().meta({ description: "Platform of the spares: one of the server's platforms; its profile is the spares' profile" }),
    features: uniqueList(machineName(), 256)
      .default([])
      .meta({ description: "Modules enabled on every spare (the kit's default features); a claim enables only what an order adds" }),
    size: z
      .strictObject({
        min: count("Spares kept however few orders come", 0),
        max: count("Spares kept however many orders come", 2),
      })
      .refine((s) => s.min <= s.max, { error: "must have min <= max", path: ["min"] })
      .prefault({})
      .meta({ description: "Bounds of the pool size the order rate chooses" }),
    installSeconds: expectedSeconds("Expected install time until a spare install has been observed", 120),
    renameSeconds: expectedSeconds("Expected rename (migrate) time of a claimed spare until a claim's rename has been observed", 45),
    rateWindowMinutes: z
      .int({ error: "must be a whole number" })
      .min(5)
      .max(10_080)
      .default(60)
      .meta({ description: "Orders created within this window set the order rate" }),
    refill: z
      .enum(REFILL_KINDS)
      .default("Clone")
      .meta({
        description:
          "How a spare is replaced: Clone copies the newest ready spare (Aegir's clone task: minutes less than an install, the baseline included) while two others stay ready for the next orders, and the only ready one where an install takes over two clones; otherwise it installs. Install always installs. Where the hostmaster refuses clones (hosting_clone off) the pool installs and says so in its RefillByClone condition",
      }),
    claimsBesideRefills: z
      .boolean()
      .default(true)
      .meta({
        description:
          "A claim's own task (the spare's rename, or its copy of the last spare) queued while hosting-queued runs a pool task is started at once beside it (drush hosting-task on the queued task), one at a time, never beside a customer's or the same site's task; false: it waits in Aegir's serial queue",
      }),
    refillsInBackground: z
      .boolean()
      .default(true)
      .meta({
        description:
          "The pool's own tasks (a spare's install, clone, delete) start at once in their own low-priority process (nice 19, ionice idle where present), forked by the command that queues them, so hosting-queued's serial queue stays free for customers' tasks; one pool task at a time, only while no customer's task is queued or running; false: they wait their turn in Aegir's queue like any task",
      }),
    placeholderZone: fqdn().default(DEFAULT_PLACEHOLDER_ZONE).meta({ description: "Reserved zone of the spares' domains (spare-<hash>.<zone>); never served to customers" }),
  })
  .meta({ description: "A pool of spare sites of one platform on one Aegir server" });

export const SPARE_STATES = ["Installing", "Ready", "Claimed", "Discarding"] as const;

export const Spare = z.strictObject({
  domain: fqdn(),
  state: z.enum(SPARE_STATES),
  /** When the install was asked for (written before the call). */
  createdAt: rfc3339(),
  /** namespace/name of the HostedSite that claimed it. */
  claimedBy: z.string().max(317).optional(),
  claimedAt: rfc3339().optional(),
  /** A clone's: the spare it was copied from (the clone task runs on that one). */
  source: fqdn().optional(),
});

export const SitePoolStatus = z
  .strictObject({
    observedGeneration: z.int().min(0).optional().meta({ format: "int64" }),
    target: z.int().min(0).optional().meta({ description: "Pool size the order rate chose" }),
    orderRatePerHour: z.number().min(0).optional().meta({ description: "Orders for this platform per hour, over the rate window" }),
    installSeconds: z.int().min(0).optional().meta({ description: "Duration of the last spare install" }),
    renameSeconds: z.int().min(0).optional().meta({ description: "Duration of the last claim's rename" }),
    ready: z.int().min(0).optional(),
    installing: z.int().min(0).optional(),
    claimed: z.int().min(0).optional().meta({ description: "Spares being turned into a customer's site" }),
    refills: z.int().min(0).optional().meta({ description: "Refills started (installs and clones)" }),
    clones: z.int().min(0).optional().meta({ description: "Of the refills, those by clone" }),
    cloneSeconds: z.int().min(0).optional().meta({ description: "Duration of the last clone of a spare" }),
    spares: z.array(Spare).max(100).optional().meta({ description: "The spares and the claim on each (the claim record)" }),
    conditions: conditionList(8).optional(),
  })
  .meta({ description: "What the pool controller last saw and did" });

export type SitePoolSpec = z.infer<typeof SitePoolSpec>;
export type SitePoolStatus = z.infer<typeof SitePoolStatus>;
export type Spare = z.infer<typeof Spare>;
export type RefillKind = (typeof REFILL_KINDS)[number];
