// Scheduled backups of a HostedSite: the policy (spec.backups, else the support tier's default)
// and what the backup controller reports (status.backups).
import { z } from "zod";
import { rfc3339 } from "./primitives.ts";

/** A duration as whole seconds, minutes, hours or days: `30m`, `24h`, `7d`. */
export const DURATION_PATTERN = "^[1-9][0-9]{0,5}(s|m|h|d)$";
/** A time of day in UTC, `HH:MM`. */
export const TIME_OF_DAY_PATTERN = "^([01][0-9]|2[0-3]):[0-5][0-9]$";

export const MAX_RETAINED_BACKUPS = 365;

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds of a duration that matches DURATION_PATTERN. */
export function durationMs(value: string): number {
  const unit = value.at(-1) as keyof typeof UNIT_MS;
  return Number(value.slice(0, -1)) * UNIT_MS[unit];
}

const duration = () => z.string().max(8).regex(new RegExp(DURATION_PATTERN), { error: "must be a duration like 30m, 24h or 7d" });

export const BackupPolicy = z
  .strictObject({
    every: duration().meta({ description: "How often the site is backed up, e.g. 24h or 7d" }),
    retain: z
      .int({ error: "must be a whole number" })
      .min(1, { error: "must be at least 1" })
      .max(MAX_RETAINED_BACKUPS, { error: `must be at most ${MAX_RETAINED_BACKUPS}` })
      .meta({ description: "How many backups are kept; older ones are deleted in Aegir" }),
    windowStart: z
      .string()
      .max(5)
      .regex(new RegExp(TIME_OF_DAY_PATTERN), { error: "must be a UTC time of day like 01:30" })
      .optional()
      .meta({ description: "Start of the backup window in UTC (HH:MM); midnight when empty" }),
    window: duration().optional().meta({ description: "Length of the backup window; the whole period when empty" }),
  })
  .superRefine((policy, ctx) => {
    if (policy.window !== undefined && durationMs(policy.window) > durationMs(policy.every)) ctx.addIssue({ code: "custom", path: ["window"], message: "must not be longer than every" });
  })
  .meta({ description: "Backup schedule and retention; the support tier's default when empty" });

export const BackupsStatus = z
  .strictObject({
    lastSuccess: rfc3339().optional().meta({ description: "When the newest backup was taken" }),
    lastFile: z.string().max(1024).optional().meta({ description: "The newest backup file on the Aegir server" }),
    count: z.int().min(0).meta({ description: "Backups kept in Aegir" }),
    next: rfc3339().optional().meta({ description: "When the next scheduled backup is due" }),
    lastFailure: rfc3339().optional().meta({ description: "When the last failed backup task ran" }),
  })
  .meta({ description: "The site's backups, as the backup controller last saw them" });

export type BackupPolicy = z.infer<typeof BackupPolicy>;
export type BackupsStatus = z.infer<typeof BackupsStatus>;
