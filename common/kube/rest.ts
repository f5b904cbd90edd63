// A small REST client for the Kubernetes API on top of @kubernetes/client-node: the KubeConfig
// supplies server, TLS and credentials (exactly as the generated clients use them), the body is
// plain JSON, every request is counted in rest_client_requests_total.
import { HttpMethod, type KubeConfig, RequestContext } from "@kubernetes/client-node";
// The same fetch client-node uses: its dispatcher (TLS, CA, client certificates) is undici's.
import { fetch } from "undici";
import { ListItemSplitter } from "./list-stream.ts";

export interface KubeStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

export class KubeApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly status: KubeStatus;

  constructor(code: number, status: KubeStatus) {
    super(`${code} ${status.reason ?? ""}: ${status.message ?? "request failed"}`);
    this.name = "KubeApiError";
    this.code = code;
    this.reason = status.reason ?? "";
    this.status = status;
  }
}

export const isNotFound = (e: unknown) => e instanceof KubeApiError && e.code === 404;
export const isConflict = (e: unknown) => e instanceof KubeApiError && e.code === 409;

export type RequestObserver = (event: { method: string; code: string; host: string }) => void;

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: "application/json" | "application/merge-patch+json" | "application/apply-patch+yaml" | "application/json-patch+json";
  /** Give up (abort) after this long; the client's default when absent. */
  timeoutMs?: number;
}

/** No request may hang a worker forever (a half-open connection, a stuck proxy). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

const METHODS: Record<string, HttpMethod> = {
  GET: HttpMethod.GET,
  POST: HttpMethod.POST,
  PUT: HttpMethod.PUT,
  PATCH: HttpMethod.PATCH,
  DELETE: HttpMethod.DELETE,
};

export class KubeRest {
  readonly kc: KubeConfig;
  private readonly server: string;
  private readonly host: string;
  private readonly observe: RequestObserver | undefined;
  private readonly userAgent: string | undefined;
  private readonly timeoutMs: number;

  /** `userAgent` names this replica in the API server's audit log (client-go sets one too). */
  constructor(kc: KubeConfig, options: { observe?: RequestObserver; userAgent?: string; timeoutMs?: number } = {}) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error("kubeconfig has no current cluster");
    this.kc = kc;
    this.server = cluster.server.replace(/\/$/, "");
    this.host = new URL(this.server).host;
    this.observe = options.observe;
    this.userAgent = options.userAgent;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  async request<T = unknown>(method: keyof typeof METHODS, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    const text = await response.text();
    const body: unknown = text === "" ? {} : JSON.parse(text);
    if (!response.ok) throw new KubeApiError(response.status, body as KubeStatus);
    return body as T;
  }

  /**
   * GET a collection, handing each item to `onItem` as it arrives instead of holding the whole
   * response (see list-stream.ts); resolves to the list's metadata.
   */
  async list(path: string, onItem: (raw: unknown) => void, query?: RequestOptions["query"]): Promise<{ resourceVersion?: string; continue?: string }> {
    const response = await this.send("GET", path, query === undefined ? {} : { query });
    if (!response.ok || response.body === null) {
      const text = await response.text();
      throw new KubeApiError(response.status, (text === "" ? {} : JSON.parse(text)) as KubeStatus);
    }
    const splitter = new ListItemSplitter((json) => onItem(JSON.parse(json)));
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) splitter.push(chunk);
    const metadata = splitter.end().metadata as { resourceVersion?: string; continue?: string } | undefined;
    return metadata ?? {};
  }

  private async send(method: keyof typeof METHODS, path: string, options: RequestOptions): Promise<Awaited<ReturnType<typeof fetch>>> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), METHODS[method] as HttpMethod);
    await this.kc.applySecurityAuthentication(ctx);
    const headers: Record<string, string> = { ...ctx.getHeaders(), accept: "application/json" };
    if (options.body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
    if (this.userAgent !== undefined) headers["user-agent"] = this.userAgent;
    let response: Awaited<ReturnType<typeof fetch>>;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        dispatcher: ctx.getDispatcher(),
        signal: AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs),
      });
    } catch (error) {
      this.observe?.({ code: "<error>", method, host: this.host });
      throw error;
    }
    this.observe?.({ code: String(response.status), method, host: this.host });
    return response;
  }
}
