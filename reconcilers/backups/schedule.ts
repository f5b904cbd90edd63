// When a site's backup is due. Pure: the policy comes from spec.backups or the support tier,
// slots repeat every period and are spread over the backup window by a hash of the site's
// name, so a server's sites do not all come due at the same moment and each site keeps its slot.
import { type BackupPolicy, durationMs } from "../../crds/backups.ts";
import type { HostedSiteSpec } from "../../crds/hostedsite.ts";

/** What each support tier gets when spec.backups is empty: a site applied by hand (ordered sites carry the catalog's). */
export const TIER_BACKUPS: Record<HostedSiteSpec["support"]["tier"], BackupPolicy> = {
  Basic: { every: "7d", retain: 4 },
  Standard: { every: "1d", retain: 7, windowStart: "01:00", window: "6h" },
  Premium: { every: "1d", retain: 14, windowStart: "01:00", window: "6h" },
};

export interface Schedule {
  everyMs: number;
  /** Offset of the window from the start of each period (periods start at the Unix epoch, UTC). */
  windowStartMs: number;
  windowMs: number;
  retain: number;
}

export function policyOf(spec: Pick<HostedSiteSpec, "backups" | "support">): BackupPolicy {
  return spec.backups ?? TIER_BACKUPS[spec.support.tier];
}

export function scheduleOf(policy: BackupPolicy): Schedule {
  const everyMs = durationMs(policy.every);
  const [hours = 0, minutes = 0] = (policy.windowStart ?? "00:00").split(":").map(Number);
  return {
    everyMs,
    windowStartMs: ((hours * 60 + minutes) * 60_000) % everyMs,
    windowMs: policy.window === undefined ? everyMs : durationMs(policy.window),
    retain: policy.retain,
  };
}

/** FNV-1a: a stable 32-bit hash, the same on every replica and after every restart. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The site's slot in the newest period that has reached it: at or before `now`. */
export function latestSlot(schedule: Schedule, name: string, now: number): number {
  const offset = schedule.windowStartMs + (hash32(name) % Math.max(1, Math.floor(schedule.windowMs / 1000))) * 1000;
  return Math.floor((now - offset) / schedule.everyMs) * schedule.everyMs + offset;
}

/** A failed backup is tried again after this long (at most one period). */
export const RETRY_AFTER_MS = 3_600_000;

export interface BackupTiming {
  /** A backup should be queued now. */
  due: boolean;
  /** When the next backup is due (now, when due). */
  next: number;
}

/**
 * Due when the newest backup is older than the latest slot: however many slots were missed
 * (the server was down), one backup catches up and the next is due at the next slot.
 */
export function backupTiming(schedule: Schedule, name: string, now: number, lastSuccess: number | undefined, lastFailure: number | undefined): BackupTiming {
  const slot = latestSlot(schedule, name, now);
  if (lastSuccess !== undefined && lastSuccess >= slot) return { due: false, next: slot + schedule.everyMs };
  if (lastFailure !== undefined && lastFailure >= slot && lastFailure > (lastSuccess ?? -Infinity)) {
    const retry = lastFailure + Math.min(RETRY_AFTER_MS, schedule.everyMs);
    if (retry > now) return { due: false, next: Math.min(retry, slot + schedule.everyMs) };
  }
  return { due: true, next: now };
}

/** Current: the newest backup is younger than one and a half periods. */
export function backupsCurrent(schedule: Schedule, now: number, lastSuccess: number | undefined): boolean {
  return lastSuccess !== undefined && now - lastSuccess <= schedule.everyMs * 1.5;
}
