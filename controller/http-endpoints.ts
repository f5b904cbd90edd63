// The metrics endpoint and the health probes, each on its own port like controller-runtime.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface Endpoint {
  server: Server;
  port: number;
  close(): Promise<void>;
}

async function listen(server: Server, host: string, port: number): Promise<Endpoint> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function serveMetrics(registry: Registry, host: string, port: number): Promise<Endpoint> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  return listen(server, host, port);
}

/** `/healthz`: the process runs. `/readyz`: every check passes (caches synced). */
export function serveProbes(ready: () => boolean, host: string, port: number): Promise<Endpoint> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path === "/healthz") res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    else if (path === "/readyz") {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ok" : "caches not synced");
    } else res.writeHead(404).end();
  });
  return listen(server, host, port);
}
