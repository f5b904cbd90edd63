import { describe, expect, it } from "vitest";
import { AegirError } from "../../reconcilers/aegir/errors.ts";
import type { ServerStatus } from "../../reconcilers/aegir/state.ts";
import { serverConditions } from "../../reconcilers/aegirserver/reconciler.ts";
import { aegirServer } from "../hostedsite/fixtures.ts";

const observed = (over: Partial<ServerStatus> = {}): ServerStatus => ({
  sites: [],
  platforms: [{ name: "platform_oa", status: 1, profiles: ["openatrium", "standard"] }],
  queue: { queued: 2, processing: 1 },
  ...over,
});
const byType = (c: ReturnType<typeof serverConditions>) => Object.fromEntries(c.map((x) => [x.type, `${x.status}/${x.reason}`]));

describe("serverConditions", () => {
  it("is Ready when reachable with every configured platform", () => {
    expect(byType(serverConditions(aegirServer(), observed(), undefined))).toEqual({
      Reachable: "True/Connected",
      PlatformsAvailable: "True/AllPlatformsFound",
      Ready: "True/Available",
    });
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
