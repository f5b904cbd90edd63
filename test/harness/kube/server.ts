// startFakeApiServer: the HTTP front of the fake Kubernetes API server on 127.0.0.1: routing of
// discovery, OpenAPI and resource paths, the request log, fault injection, and shutdown.
import { writeFileSync } from "node:fs";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { crdFor } from "../../../crds/generate.ts";
import { KINDS } from "../../../crds/kinds.ts";
import { configMaps, coreEvents, eventsV1Events, leases, namespaces, secrets } from "./builtins.ts";
import { customResourceDefinitions, syncCustomResourceTypes } from "./crd.ts";
import {
  aggregatedContentType,
  aggregatedDiscovery,
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
  versionInfo,
} from "./discovery.ts";
import { Faults, type RequestRecord, RequestLog, type UnavailableMode } from "./faults.ts";
import { type HandlerContext, handleResource, sendError, sendJson } from "./handlers.ts";
import { kubeconfigYaml } from "./kubeconfig.ts";
import { aggregatedDiscoveryVersion } from "./media.ts";
import { ObjectApi } from "./objects.ts";
import { groupVersionDocument, openApiIndex } from "./openapi-docs.ts";
import { ObjectRegistry } from "./registry.ts";
import { requestInfo } from "./request-info.ts";
import { type KubeObject, ResourceRegistry } from "./resources.ts";
import { ApiError, OBJECT_MODIFIED, REASON_FOR_CODE, conflict, internalError, methodNotAllowed, routeNotFound } from "./status.ts";
import { Store } from "./store.ts";
import { WatchHub, errorEventLine } from "./watch.ts";

export interface FakeApiServerOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Install the operator's CRDs (HostedSite, AegirServer) at start. Default true. */
  installOperatorCrds?: boolean;
  /** More CustomResourceDefinition objects to install at start. */
  crds?: KubeObject[];
  /** Namespaces to create besides default, kube-system, kube-public and kube-node-lease. */
  namespaces?: string[];
  /** The version /version reports; kubectl's dispatcher picks its kubectl binary by it. Default 1.32.4. */
  kubernetesVersion?: string;
  /** Store changes kept for watches resuming from a resourceVersion; older ones get 410. Default 10000. */
  watchHistorySize?: number;
  /** A too-old watch resourceVersion as an ERROR event in a 200 stream (default, like the watch cache) or a 410 response. */
  expiredWatch?: "event" | "status";
  /** Watch length when the client sets no timeoutSeconds. Default 1800. */
  watchTimeoutSeconds?: number;
  /** Interval of BOOKMARK events on watches with allowWatchBookmarks=true. Default 60000. */
  bookmarkIntervalMs?: number;
  /** Clock for timestamps and Table ages. */
  clock?: () => Date;
}

export interface FakeApiServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  kubeconfigYaml(namespace?: string): string;
  writeKubeconfig(path: string, namespace?: string): void;
  /** Read and write objects in-process (same semantics and watch events as HTTP requests). */
  objects: ObjectApi;
  faults: Faults;
  requests: RequestLog;
  /** Open watch streams, and a way to push a BOOKMARK on those that asked for bookmarks. */
  watches: { count(): number; sendBookmarks(): void };
  /** The current (highest) resourceVersion. */
  resourceVersion(): string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 3 * 1024 * 1024;
const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export async function startFakeApiServer(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const clock = options.clock ?? (() => new Date());
  const kubernetesVersion = options.kubernetesVersion ?? "1.32.4";
  const store = new Store(options.watchHistorySize ?? 10_000);
  const resources = new ResourceRegistry();
  for (const t of [namespaces, configMaps, secrets, coreEvents, customResourceDefinitions, leases, eventsV1Events]) resources.add(t);
  const registry = new ObjectRegistry(store, resources, clock);
  syncCustomResourceTypes(store, resources);
  const watches = new WatchHub(store, options.bookmarkIntervalMs ?? 60_000);
  const requests = new RequestLog();
  const objects = new ObjectApi(registry);

  const system = { manager: "kube-apiserver" };
  for (const name of [...SYSTEM_NAMESPACES, ...(options.namespaces ?? [])]) {
    objects.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } }, system);
  }
  const crds = [...(options.installOperatorCrds === false ? [] : KINDS.map((k) => crdFor(k) as KubeObject)), ...(options.crds ?? [])];
  for (const crd of crds) objects.create(crd, system);

  const context: HandlerContext = {
    registry,
    watches,
    watchTimeoutSeconds: options.watchTimeoutSeconds ?? 1800,
    expiredWatch: options.expiredWatch ?? "event",
  };

  let unavailable: UnavailableMode | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => void handle(req, res));
  server.on("connection", (socket) => {
    if (unavailable === "reset") return socket.destroy();
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  const stopListening = () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  const dropConnections = () => {
    watches.drop("destroy");
    for (const s of sockets) s.destroy();
  };

  await listen(options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  const faults = new Faults({
    dropWatches: (how) => watches.drop(how),
    compact: () => store.compact(),
    async setUnavailable(mode) {
      const was = unavailable;
      unavailable = mode;
      if (mode !== undefined) dropConnections();
      if (mode === "refuse" && was !== "refuse") {
        const closed = stopListening();
        dropConnections();
        await closed;
      }
      if (mode !== "refuse" && was === "refuse") await listen(port);
    },
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const info = requestInfo(req.method ?? "GET", url);
    const record: RequestRecord = {
      time: clock(),
      method: info.method,
      path: info.path,
      query: Object.fromEntries(url.searchParams),
      verb: info.verb,
      apiGroup: info.apiGroup,
      apiVersion: info.apiVersion,
      resource: info.resource,
      subresource: info.subresource,
      namespace: info.namespace,
      name: info.name,
      userAgent: req.headers["user-agent"] ?? "",
    };
    requests.add(record);
    res.on("finish", () => (record.status = res.statusCode));
    try {
      if (unavailable === "503") throw new ApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request");
      const delay = faults.delayFor(record);
      if (delay > 0) await sleep(delay);
      const failure = faults.take(record);
      if (failure === "conflict") throw conflict(info.apiGroup, info.resource, info.name, OBJECT_MODIFIED);
      if (failure) {
        const reason = failure.reason ?? REASON_FOR_CODE[failure.status] ?? "";
        const message = failure.message ?? `injected ${failure.status} ${reason}`;
        if (failure.asWatchEvent && info.verb === "watch") {
          res.writeHead(200, { "Content-Type": "application/json" });
          return void res.end(errorEventLine(failure.status, reason, message));
        }
        throw new ApiError(failure.status, reason, message, failure.retryAfterSeconds === undefined ? undefined : { retryAfterSeconds: failure.retryAfterSeconds });
      }
      const body = await readBody(req);
      route(info, req, res, body);
    } catch (error) {
      // Anything but an ApiError is a bug in the fake; say so loudly rather than only answer 500.
      if (!(error instanceof ApiError)) console.error("fake API server: unexpected error handling", info.method, info.path, error);
      if (res.headersSent) return void res.destroy();
      sendError(res, error instanceof ApiError ? error : internalError(error instanceof Error ? error.message : String(error)));
    }
  }

  function route(info: ReturnType<typeof requestInfo>, req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    if (info.isResourceRequest) return handleResource(context, info, req, res, body);
    if (req.method !== "GET" && req.method !== "HEAD") throw methodNotAllowed(`${String(req.method)} is not allowed on ${info.path}`);
    const path = info.path.replace(/\/+$/, "") || "/";
    const accept = req.headers.accept;
    const found = (doc: unknown) => {
      if (doc === undefined) throw routeNotFound();
      sendJson(res, 200, doc);
    };
    if (path === "/version") return found(versionInfo(kubernetesVersion));
    if (path === "/healthz" || path === "/livez" || path === "/readyz") {
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
      return void res.end("ok");
    }
    if (path === "/api" || path === "/apis") {
      const aggregated = aggregatedDiscoveryVersion(accept);
      if (aggregated) {
        return sendJson(res, 200, aggregatedDiscovery(resources, path === "/api", aggregated), { "Content-Type": aggregatedContentType(aggregated) });
      }
      return found(path === "/api" ? apiVersions(`127.0.0.1:${port}`) : apiGroupList(resources));
    }
    const parts = path.split("/").slice(1);
    if (parts[0] === "api" && parts.length === 2) return found(apiResourceList(resources, "", parts[1]!));
    if (parts[0] === "apis" && parts.length === 2) return found(apiGroupDocument(resources, parts[1]!));
    if (parts[0] === "apis" && parts.length === 3) return found(apiResourceList(resources, parts[1]!, parts[2]!));
    if (path === "/openapi/v3") return found(openApiIndex(resources));
    if (parts[0] === "openapi" && parts[1] === "v3") {
      const [prefix, group, version] = parts.slice(2);
      if (prefix === "api" && group !== undefined && version === undefined) return found(groupVersionDocument(resources, "", group));
      if (prefix === "apis" && group !== undefined && version !== undefined) return found(groupVersionDocument(resources, group, version));
    }
    throw routeNotFound();
  }

  return {
    url,
    port,
    kubeconfigYaml: (namespace) => kubeconfigYaml(url, namespace),
    writeKubeconfig: (path, namespace) => writeFileSync(path, kubeconfigYaml(url, namespace)),
    objects,
    faults,
    requests,
    watches: { count: () => watches.size, sendBookmarks: () => watches.sendBookmarks() },
    resourceVersion: () => String(store.currentRevision()),
    async close() {
      faults.dispose();
      unavailable = undefined;
      watches.drop("end");
      const closed = stopListening();
      dropConnections();
      await closed;
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError(413, "RequestEntityTooLarge", "request entity too large: limit is 3145728"));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
