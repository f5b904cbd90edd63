// The sandbox's live progress lines: one per change of a site's or a space's Ready condition, and
// one when its owner is welcomed; nothing for other kinds or repeats.
import { describe, expect, it } from "vitest";
import { progressLines } from "../harness/sandbox-progress.ts";

const created = "2026-01-01T00:00:00Z";
const at = (seconds: number) => new Date(Date.parse(created) + seconds * 1000);
const space = (ready: [string, string], owner?: Record<string, unknown>) => ({
  apiVersion: "hosting.openatria.com/v1alpha1",
  kind: "HostedSpace",
  metadata: { namespace: "customers", name: "tinker", creationTimestamp: created },
  spec: { owner: { email: "ada@tinker.example.com" } },
  status: { conditions: [{ type: "Ready", status: ready[0], reason: ready[1] }], ...(owner ? { owner } : {}) },
});

describe("sandbox progress lines", () => {
  it("prints a space's Ready changes and its owner's welcome once each", () => {
    const lines = progressLines();
    expect(lines(space(["False", "WaitingForSharedSite"]), at(1))).toEqual([`  00:00:01  ${"hsp customers/tinker".padEnd(32)} Ready=False   WaitingForSharedSite   1.0 s`]);
    expect(lines(space(["False", "WaitingForSharedSite"]), at(2))).toEqual([]);
    const welcomed = space(["True", "Available"], { name: "ada", uid: 7, welcomedAt: "2026-01-01T00:00:04Z", welcome: "Sent" });
    expect(lines(welcomed, at(4))).toEqual([
      `  00:00:04  ${"hsp customers/tinker".padEnd(32)} Ready=True    Available              4.0 s`,
      `  00:00:04  ${"hsp customers/tinker".padEnd(32)} owner ada (uid 7) welcome mail to ada@tinker.example.com: Sent`,
    ]);
    expect(lines(welcomed, at(9))).toEqual([]);
  });

  it("tells sites and spaces of the same name apart, and ignores other kinds", () => {
    const lines = progressLines();
    const site = { ...space(["True", "Available"]), kind: "HostedSite" };
    expect(lines(site, at(1))[0]).toContain("hs customers/tinker ");
    expect(lines(space(["True", "Available"]), at(1))[0]).toContain("hsp customers/tinker ");
    expect(lines({ ...site, kind: "SitePool" }, at(1))).toEqual([]);
  });
});
