import { describe, expect, it } from "vitest";
import { BackupPolicy } from "../../crds/backups.ts";
import { RETRY_AFTER_MS, backupTiming, backupsCurrent, latestSlot, policyOf, scheduleOf } from "../../reconcilers/backups/schedule.ts";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.parse("2027-03-01T12:00:00Z");

describe("backup policy", () => {
  it("defaults by support tier: weekly keep 4 for Basic, daily keep 14 for Premium", () => {
    expect(policyOf({ support: { tier: "Basic", hours: "8x5", channels: ["email"] } })).toMatchObject({ every: "7d", retain: 4 });
    expect(policyOf({ support: { tier: "Premium", hours: "24x7", channels: ["email"] } })).toMatchObject({ every: "1d", retain: 14 });
  });

  it("spec.backups wins over the tier", () => {
    const backups = { every: "12h", retain: 3 };
    expect(policyOf({ backups, support: { tier: "Premium", hours: "24x7", channels: ["email"] } })).toBe(backups);
  });

  it("refuses a window longer than the period and bad durations, naming the field", () => {
    expect(BackupPolicy.safeParse({ every: "1d", retain: 2, window: "25h" }).error?.issues[0]?.path).toEqual(["window"]);
    expect(BackupPolicy.safeParse({ every: "daily", retain: 2 }).error?.issues[0]?.path).toEqual(["every"]);
    expect(BackupPolicy.safeParse({ every: "1d", retain: 0 }).error?.issues[0]?.path).toEqual(["retain"]);
  });
});

describe("backup slots", () => {
  const daily = scheduleOf({ every: "1d", retain: 14, windowStart: "01:00", window: "6h" });

  it("spreads a server's sites over the window, each site keeping its own slot", () => {
    const slots = Array.from({ length: 1000 }, (_, i) => latestSlot(daily, `customers/site-${i}`, T0));
    for (const slot of slots) {
      const sinceMidnight = slot % DAY;
      expect(sinceMidnight).toBeGreaterThanOrEqual(1 * HOUR);
      expect(sinceMidnight).toBeLessThan(7 * HOUR);
    }
    // Spread: every hour of the window gets a share, none more than twice its fair share.
    const perHour = new Map<number, number>();
    for (const slot of slots) perHour.set(Math.floor((slot % DAY) / HOUR), (perHour.get(Math.floor((slot % DAY) / HOUR)) ?? 0) + 1);
    expect([...perHour.keys()].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    for (const n of perHour.values()) expect(n).toBeLessThan((1000 / 6) * 2);
    expect(latestSlot(daily, "customers/site-1", T0 + DAY)).toBe(latestSlot(daily, "customers/site-1", T0) + DAY);
  });

  it("the latest slot is never in the future", () => {
    for (let t = T0; t < T0 + 2 * DAY; t += 17 * 60_000) expect(latestSlot(daily, "customers/acme", t)).toBeLessThanOrEqual(t);
  });
});

describe("when a backup is due", () => {
  const daily = scheduleOf({ every: "1d", retain: 14 });
  const name = "customers/acme";

  it("a site never backed up is due at once", () => {
    expect(backupTiming(daily, name, T0, undefined, undefined)).toEqual({ due: true, next: T0 });
  });

  it("a missed window (three days down) is caught up once, not three times", () => {
    const slot = latestSlot(daily, name, T0);
    expect(backupTiming(daily, name, T0, slot - 3 * DAY, undefined).due).toBe(true);
    // One backup now: nothing more until the next slot.
    expect(backupTiming(daily, name, T0 + 60_000, T0, undefined)).toEqual({ due: false, next: slot + DAY });
  });

  it("a failed backup is retried after the retry delay, not at every look", () => {
    const slot = latestSlot(daily, name, T0);
    const failedAt = slot + 1000;
    expect(backupTiming(daily, name, failedAt + 60_000, slot - DAY, failedAt)).toEqual({ due: false, next: failedAt + RETRY_AFTER_MS });
    expect(backupTiming(daily, name, failedAt + RETRY_AFTER_MS, slot - DAY, failedAt).due).toBe(true);
  });

  it("backups are current while the newest is younger than one and a half periods", () => {
    expect(backupsCurrent(daily, T0, T0 - DAY)).toBe(true);
    expect(backupsCurrent(daily, T0, T0 - 1.6 * DAY)).toBe(false);
    expect(backupsCurrent(daily, T0, undefined)).toBe(false);
  });
});
