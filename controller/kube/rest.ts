// A small REST client for the Kubernetes API on top of @kubernetes/client-node: the KubeConfig
// supplies server, TLS and credentials (exactly as the generated clients use them), the body is
// plain JSON, every request is counted in rest_client_requests_total.
import { HttpMethod, type KubeConfig, RequestContext } from "@kubernetes/client-node";
// The same fetch client-node uses: its dispatcher (TLS, CA, client certificates) is undici's.
import { fetch } from "undici";

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
}

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

  constructor(kc: KubeConfig, observe?: RequestObserver) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error("kubeconfig has no current cluster");
    this.kc = kc;
    this.server = cluster.server.replace(/\/$/, "");
    this.host = new URL(this.server).host;
    this.observe = observe;
  }

  async request<T = unknown>(method: keyof typeof METHODS, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), METHODS[method] as HttpMethod);
    await this.kc.applySecurityAuthentication(ctx);
    const headers: Record<string, string> = { ...ctx.getHeaders(), accept: "application/json" };
    if (options.body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
    let response: Awaited<ReturnType<typeof fetch>>;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        dispatcher: ctx.getDispatcher(),
      });
    } catch (error) {
      this.observe?.({ code: "<error>", method, host: this.host });
      throw error;
    }
    this.observe?.({ code: String(response.status), method, host: this.host });
    const text = await response.text();
    const body: unknown = text === "" ? {} : JSON.parse(text);
    if (!response.ok) throw new KubeApiError(response.status, body as KubeStatus);
    return body as T;
  }
}
