// HostedSiteRestore: a request to restore one HostedSite from one of its Aegir backups. A kind
// rather than an annotation on the site: the request gets its own status (progress, the Aegir
// task, the outcome), a history (one object per restore), and its own RBAC (who may restore is
// not who may edit the site).
import { z } from "zod";
import { conditionList } from "./conditions.ts";
import { dns1123Subdomain, rfc3339 } from "./primitives.ts";

/** A backup file as Aegir names it (provision-backup: `<aegir_root>/backups/<uri>-<stamp>.tar.gz`). */
export const BACKUP_FILE_PATTERN = "^/[A-Za-z0-9._/-]+\\.tar\\.gz$";

export const RestorePhase = z.enum(["Pending", "Running", "Succeeded", "Failed", "Refused"]);

export const HostedSiteRestoreSpec = z
  .strictObject({
    site: dns1123Subdomain().meta({ description: "The HostedSite to restore, in the same namespace" }),
    backup: z
      .string()
      .max(1024)
      .regex(new RegExp(BACKUP_FILE_PATTERN), { error: "must be a backup file path ending in .tar.gz, as in status.backups.lastFile" })
      .optional()
      .meta({ description: "The backup file to restore; the site's newest backup when empty" }),
  })
  .meta({
    description: "Which site to restore from which backup. Immutable: a new restore is a new object.",
    "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "spec is immutable; create a new HostedSiteRestore" }],
  });

export const HostedSiteRestoreStatus = z
  .strictObject({
    observedGeneration: z.int().min(0).optional().meta({ format: "int64" }),
    phase: RestorePhase.optional(),
    backup: z.string().max(1024).optional().meta({ description: "The backup file being restored (resolved when the restore starts)" }),
    server: dns1123Subdomain().optional(),
    /** The site's newest restore task before this request queued its own: tells after a restart whether the task was queued. */
    baselineTask: z.int().min(0).optional().meta({ description: "The site's newest restore task in Aegir before this request" }),
    task: z.int().min(1).optional().meta({ description: "The Aegir task id of this restore" }),
    startedAt: rfc3339().optional(),
    completedAt: rfc3339().optional(),
    message: z.string().max(4096).optional(),
    conditions: conditionList(8).optional(),
  })
  .meta({ description: "Progress and outcome of the restore" });

export type HostedSiteRestoreSpec = z.infer<typeof HostedSiteRestoreSpec>;
export type HostedSiteRestoreStatus = z.infer<typeof HostedSiteRestoreStatus>;
export type RestorePhase = z.infer<typeof RestorePhase>;
