// PlatformRollout (cluster-scoped): moves the HostedSites a label selector picks from one Aegir
// platform to another in rolling batches, each site backed up first, through Aegir's migrate
// task. Cluster-scoped like the AegirServers whose platforms it names: one upgrade of a platform
// spans the sites of every customer namespace.
import { z } from "zod";
import { conditionList } from "./conditions.ts";
import { dns1123Label, dns1123Subdomain, machineName, rfc3339, uniqueList } from "./primitives.ts";

export const MAX_BATCH_SIZE = 100;
/** Per-site entries kept in status: the failed and in-flight ones (done sites are only counted). */
export const MAX_REPORTED_SITES = 1000;

const LABEL_KEY = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";
const LABEL_VALUE = "^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$";
const labelKey = () => z.string().max(317).regex(new RegExp(LABEL_KEY), { error: "must be a label key like app.kubernetes.io/name" });
const labelValue = () => z.string().max(63).regex(new RegExp(LABEL_VALUE), { error: "must be a label value (at most 63 letters, digits, '-', '_', '.')" });

/** metav1.LabelSelector. */
export const LabelSelector = z
  .strictObject({
    matchLabels: z.record(labelKey(), labelValue()).optional(),
    matchExpressions: z
      .array(
        z
          .strictObject({
            key: labelKey(),
            operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
            values: uniqueList(labelValue(), 64).optional(),
          })
          .refine((e) => (e.operator === "In" || e.operator === "NotIn") === (e.values !== undefined && e.values.length > 0), {
            error: "values must be set (non-empty) for In and NotIn, and only for them",
            path: ["values"],
          }),
      )
      .max(16)
      .optional(),
  })
  .meta({ description: "Which HostedSites (in every namespace) the rollout moves; an empty selector picks all" });

export const PlatformRolloutSpec = z
  .strictObject({
    fromPlatform: machineName().meta({ description: "The Aegir platform the sites are moved off" }),
    toPlatform: machineName().meta({ description: "The Aegir platform they are moved to (configured on their AegirServers)" }),
    selector: LabelSelector.prefault({}),
    batchSize: z
      .int({ error: "must be a whole number" })
      .min(1, { error: "must be at least 1" })
      .max(MAX_BATCH_SIZE, { error: `must be at most ${MAX_BATCH_SIZE}` })
      .default(1)
      .meta({ description: "Sites being backed up or migrated at once (at most this many unavailable); one finishing makes room for the next" }),
    pauseAfterFailures: z
      .int({ error: "must be a whole number" })
      .min(0, { error: "must be at least 0" })
      .max(10_000)
      .default(1)
      .meta({ description: "The rollout pauses once this many sites failed (0: never, up to 900, the failures status can list); raise it to resume" }),
    paused: z.boolean().default(false).meta({ description: "true: no further site is started; those in flight finish" }),
    backupBeforeMigrate: z.boolean().default(true).meta({ description: "Back each site up (Aegir backup task) before its migrate; a failed backup skips the migrate" }),
  })
  .refine((spec) => spec.fromPlatform !== spec.toPlatform, { error: "must differ from fromPlatform", path: ["toPlatform"] })
  .meta({
    description: "Which sites move from which platform to which, how many at once",
    "x-kubernetes-validations": [
      { rule: "self.fromPlatform != self.toPlatform", message: "toPlatform must differ from fromPlatform" },
      { rule: "self.fromPlatform == oldSelf.fromPlatform && self.toPlatform == oldSelf.toPlatform", message: "fromPlatform and toPlatform are immutable; create a new PlatformRollout" },
    ],
  });

export const SiteRolloutPhase = z.enum(["BackingUp", "Migrating", "Failed"]);

/** One site the rollout is working on or that failed. */
export const SiteRollout = z.strictObject({
  namespace: dns1123Label(),
  name: dns1123Subdomain(),
  server: dns1123Subdomain(),
  phase: SiteRolloutPhase,
  /** The site's newest task of the step's type before the rollout queued its own: tells after a restart whether it was queued. */
  baselineTask: z.int().min(0).optional(),
  /** The Aegir task id of the step (backup or migrate). */
  task: z.int().min(1).optional(),
  reason: z.string().max(128).optional(),
  message: z.string().max(1024).optional(),
  at: rfc3339().optional().meta({ description: "When the site entered this phase" }),
});

export const PlatformRolloutStatus = z
  .strictObject({
    observedGeneration: z.int().min(0).optional().meta({ format: "int64" }),
    selected: z.int().min(0).optional().meta({ description: "HostedSites the selector picks" }),
    done: z.int().min(0).optional().meta({ description: "Selected sites on toPlatform" }),
    failed: z.int().min(0).optional().meta({ description: "Sites whose backup or migrate failed; they stay on fromPlatform" }),
    remaining: z.int().min(0).optional().meta({ description: "Sites still to move, in flight included" }),
    inFlight: z.int().min(0).optional(),
    skipped: z.int().min(0).optional().meta({ description: "Selected sites with their own spec.platform, which wins over the rollout" }),
    sites: z.array(SiteRollout).max(MAX_REPORTED_SITES).optional().meta({ description: "Sites in flight and sites that failed, with the Aegir task and the reason" }),
    startedAt: rfc3339().optional(),
    completedAt: rfc3339().optional(),
    conditions: conditionList(8).optional(),
  })
  .meta({ description: "Progress of the rollout" });

export type LabelSelector = z.infer<typeof LabelSelector>;
export type PlatformRolloutSpec = z.infer<typeof PlatformRolloutSpec>;
export type PlatformRolloutStatus = z.infer<typeof PlatformRolloutStatus>;
export type SiteRollout = z.infer<typeof SiteRollout>;
