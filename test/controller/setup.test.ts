// Each setup owns its watches: which keys a change of one kind puts on which controller's queue.
import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { KubeRest } from "../../common/kube/rest.ts";
import { createLogger } from "../../common/logger.ts";
import type { AegirServer, HostedSite } from "../../crds/kinds.ts";
import { ServerStatusCache } from "../../reconcilers/hostedsite/server-status-cache.ts";
import { DriverRegistry } from "../../controller/drivers.ts";
import { ControllerMetrics } from "../../controller/metrics.ts";
import type { ChangeHandler, Infrastructure } from "../../controller/runnable.ts";
import { setupAegirServer } from "../../controller/setup/aegirserver.ts";
import { setupHostedSite } from "../../controller/setup/hostedsite.ts";
import { aegirServer, hostedSite } from "../hostedsite/fixtures.ts";

/** A client for a server nobody calls: the setups only build their stores with it. */
function unusedClient(): KubeRest {
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: "c", server: "https://127.0.0.1:1" }], users: [{ name: "u" }], contexts: [{ name: "x", cluster: "c", user: "u" }], currentContext: "x" });
  return new KubeRest(kc);
}

function infrastructure(sites: HostedSite[], servers: AegirServer[]) {
  const metrics = new ControllerMetrics();
  const log = createLogger({ name: "test", level: "silent" });
  const watchers = { sites: [] as Array<ChangeHandler<HostedSite>>, servers: [] as Array<ChangeHandler<AegirServer>> };
  const cache = <T extends { metadata: { name: string; namespace?: string } }>(list: T[]) => ({
    get: (key: string) => list.find((o) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name) === key),
    list: () => list,
  });
  const infra: Infrastructure = {
    rest: unusedClient(),
    metrics,
    log,
    events: { record: () => {} },
    now: () => new Date("2027-03-01T09:00:00Z"),
    drivers: new DriverRegistry({ servers: () => servers, readSecret: () => Promise.reject(new Error("no key")), log }),
    statusCache: new ServerStatusCache({ fetch: () => Promise.reject(new Error("not read")), now: Date.now, maxAgeMs: 0 }),
    sites: cache(sites),
    servers: cache(servers),
    pools: cache([]),
    rollouts: cache([]),
    watchSites: (handler) => watchers.sites.push(handler),
    watchServers: (handler) => watchers.servers.push(handler),
    watchPools: () => {},
    watchRollouts: () => {},
    maxConcurrentReconciles: 1,
    reconciler: {},
  };
  const adds = async (controller: string) => (await metrics.queueAdds.get()).values.find((v) => v.labels.controller === controller)?.value ?? 0;
  return { infra, watchers, adds };
}

describe("controller setups", () => {
  it("queue the sites of a changed or removed AegirServer, including sites being deleted from it after spec.server moved", async () => {
    const placed = { ...hostedSite({}, { name: "placed" }), status: { server: "aegir-1" } };
    const moved = { ...hostedSite({ server: "aegir-2" }, { name: "moved", deletionTimestamp: "2027-03-01T08:00:00Z" }), status: { server: "aegir-1" } };
    const elsewhere = { ...hostedSite({}, { name: "elsewhere" }), status: { server: "aegir-2" } };
    const unplaced = hostedSite({}, { name: "unplaced" });
    const { infra, watchers, adds } = infrastructure([placed, moved, elsewhere, unplaced], [aegirServer("aegir-1"), aegirServer("aegir-2")]);
    setupAegirServer(infra);
    setupHostedSite(infra);
    for (const watch of watchers.servers) watch("aegir-1", undefined);
    expect(await adds("aegirserver")).toBe(1);
    expect(await adds("hostedsite")).toBe(2);
  });
});
