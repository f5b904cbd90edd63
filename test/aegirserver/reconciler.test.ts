import { describe, expect, it } from "vitest";
import { AegirError } from "../../reconcilers/aegir/errors.ts";
import type { ServerStatus } from "../../reconcilers/aegir/state.ts";
import { createLogger } from "../../common/logger.ts";
import type { AegirServerStatus } from "../../crds/aegirserver.ts";
import { AegirServerReconciler, PROBE_REPORT_MS, serverConditions } from "../../reconcilers/aegirserver/reconciler.ts";
import { ServerStatusCache } from "../../reconcilers/hostedsite/server-status-cache.ts";
import { aegirServer } from "../hostedsite/fixtures.ts";

const observed = (over: Partial<ServerStatus> = {}): ServerStatus => ({
  sites: [],
  platforms: [{ name: "platform_oa", status: 1, profiles: ["openatrium", "standard"] }],
  queue: { queued: 2, processing: 1 },
  https: true,
  ...over,
});
const byType = (c: ReturnType<typeof serverConditions>) => Object.fromEntries(c.map((x) => [x.type, `${x.status}/${x.reason}`]));

describe("serverConditions", () => {
  it("is Ready when reachable with every configured platform", () => {
    expect(byType(serverConditions(aegirServer(), observed(), undefined))).toEqual({
      Reachable: "True/Connected",
      PlatformsAvailable: "True/AllPlatformsFound",
      HttpsAvailable: "True/ModuleEnabled",
      Ready: "True/Available",
    });
  });

  it("reports a hostmaster without hosting_https and stays Ready", () => {
    const c = byType(serverConditions(aegirServer(), observed({ https: false }), undefined));
    expect(c).toMatchObject({ HttpsAvailable: "False/ModuleMissing", Ready: "True/Available" });
  });

  it("names the missing platform or profile", () => {
    const missing = serverConditions(aegirServer(), observed({ platforms: [] }), undefined);
    expect(missing.find((c) => c.type === "PlatformsAvailable")?.message).toBe("platform platform_oa does not exist on the server");
    const noProfile = serverConditions(aegirServer(), observed({ platforms: [{ name: "platform_oa", status: 1, profiles: ["standard"] }] }), undefined);
    expect(noProfile.find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason: "PlatformMissing" });
  });

  it("is not Ready when full", () => {
    const sites = Array.from({ length: 2 }, (_, i) => ({ nid: i, uri: `s${i}.example.com`, status: "enabled" as const, verified: 0, platform: "platform_oa", profile: "openatrium", aliases: [], https: "Disabled" as const, tasks: [] }));
    expect(byType(serverConditions(aegirServer("a", { capacity: { maxSites: 2 } }), observed({ sites }), undefined)).Ready).toBe("False/Full");
  });

  it("reports why it is unreachable", () => {
    const c = serverConditions(aegirServer(), undefined, new AegirError("HostKeyMismatch", "host key does not match the pinned fingerprint"));
    expect(byType(c)).toEqual({ Reachable: "False/HostKeyMismatch", Ready: "False/Unreachable" });
  });
});

describe("AegirServerReconciler status writes", () => {
  const rig = (status: ServerStatus) => {
    let now = new Date("2027-03-01T09:00:00Z");
    const writes: AegirServerStatus[] = [];
    let server = aegirServer();
    const reconciler = new AegirServerReconciler({
      store: {
        updateStatus: (s, st) => {
          writes.push(st);
          server = { ...s, status: st };
          return Promise.resolve(server);
        },
      },
      statusCache: new ServerStatusCache({ fetch: () => Promise.resolve(status), now: () => now.getTime(), maxAgeMs: 0 }),
      now: () => now,
      log: createLogger({ name: "test", level: "silent" }),
    });
    return {
      writes,
      poll: () => reconciler.reconcile(server),
      advance: (ms: number) => (now = new Date(now.getTime() + ms)),
      status,
    };
  };

  it("writes an unchanged probe result only as a heartbeat every few minutes", async () => {
    const r = rig(observed({ platforms: [{ name: "platform_openatrium2652", status: 1, profiles: ["openatrium"] }] }));
    await r.poll();
    expect(r.writes).toHaveLength(1);
    for (let i = 0; i < 4; i++) {
      r.advance(60_000);
      await r.poll();
    }
    expect(r.writes).toHaveLength(1);
    r.advance(PROBE_REPORT_MS - 4 * 60_000);
    await r.poll();
    expect(r.writes).toHaveLength(2);
    expect(r.writes[1]!.lastProbeTime).toBe("2027-03-01T09:05:00Z");
  });

  it("writes at once when the probe result changes", async () => {
    const r = rig(observed({ platforms: [{ name: "platform_openatrium2652", status: 1, profiles: ["openatrium"] }] }));
    await r.poll();
    r.advance(60_000);
    r.status.platforms.push({ name: "platform_new", status: 1, profiles: ["standard"] });
    await r.poll();
    expect(r.writes).toHaveLength(2);
    expect(r.writes[1]!.platforms?.map((p) => p.name)).toContain("platform_new");
    expect(r.writes[1]!.lastProbeTime).toBe("2027-03-01T09:01:00Z");
  });
});
