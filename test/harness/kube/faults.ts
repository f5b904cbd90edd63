// Fault injection and the request log: tests make the server fail, slow down, drop watches or
// disappear, and read back what clients asked for (verbs and resources, for RBAC reviews).
import type { RequestInfo } from "./request-info.ts";

/** One request as the server saw it (its RBAC attributes); `status` is filled in when the response has been sent. */
export interface RequestRecord extends Omit<RequestInfo, "query" | "isResourceRequest"> {
  time: Date;
  query: Record<string, string>;
  userAgent: string;
  status?: number;
}

/** Selects requests; every given property must match. */
export interface RequestMatcher {
  method?: string | readonly string[];
  /** Exact path, or a pattern tested against the path. */
  path?: string | RegExp;
  verb?: string | readonly string[];
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  test?: (request: RequestRecord) => boolean;
}

export interface InjectedFailure {
  /** HTTP status of the Status body: 500, 409, 410, 429, 503... */
  status: number;
  /** Defaults to the API server's reason for the status (InternalError, Conflict, Gone...). */
  reason?: string;
  message?: string;
  /** Sets the Retry-After header and details.retryAfterSeconds (429 and 503 clients honour it). */
  retryAfterSeconds?: number;
  /** For watch requests: answer 200, send the Status as an ERROR event, then end the stream. */
  asWatchEvent?: boolean;
}

export type UnavailableMode = "refuse" | "reset" | "503";

export interface FaultHooks {
  dropWatches(how: "end" | "destroy"): number;
  setUnavailable(mode: UnavailableMode | undefined): Promise<void>;
  compact(): void;
}

const oneOf = (want: string | readonly string[] | undefined, value: string) =>
  want === undefined || (typeof want === "string" ? want === value : want.includes(value));

function matchesRequest(matcher: RequestMatcher, r: RequestRecord): boolean {
  if (!oneOf(matcher.method, r.method) || !oneOf(matcher.verb, r.verb)) return false;
  if (matcher.path !== undefined && (typeof matcher.path === "string" ? matcher.path !== r.path : !matcher.path.test(r.path))) return false;
  for (const key of ["apiGroup", "resource", "subresource", "namespace", "name"] as const) {
    if (matcher[key] !== undefined && matcher[key] !== r[key]) return false;
  }
  return matcher.test === undefined || matcher.test(r);
}

interface FailureRule {
  matcher: RequestMatcher;
  remaining: number;
  failure: InjectedFailure | "conflict";
}

export class Faults {
  private readonly failures: FailureRule[] = [];
  private readonly latencies = new Set<{ matcher: RequestMatcher; ms: number }>();
  private readonly hooks: FaultHooks;
  private restoreTimer: NodeJS.Timeout | undefined;

  constructor(hooks: FaultHooks) {
    this.hooks = hooks;
  }

  /** Answers the next `count` matching requests with the given failure instead of serving them. */
  failNext(matcher: RequestMatcher, failure: InjectedFailure, count = 1): void {
    this.failures.push({ matcher, failure, remaining: count });
  }

  /** Answers the next `count` matching writes (update and patch by default) with the optimistic-lock 409 Conflict. */
  conflictNext(matcher: RequestMatcher = { verb: ["update", "patch"] }, count = 1): void {
    this.failures.push({ matcher, failure: "conflict", remaining: count });
  }

  /** Delays matching requests by `ms`; returns a function that removes the delay. */
  addLatency(ms: number, matcher: RequestMatcher = {}): () => void {
    const rule = { matcher, ms };
    this.latencies.add(rule);
    return () => this.latencies.delete(rule);
  }

  /** Ends every open watch now: cleanly (`end`, clients re-watch) or by destroying the connection. Returns how many. */
  dropWatches(how: "end" | "destroy" = "end"): number {
    return this.hooks.dropWatches(how);
  }

  /**
   * Makes the server unavailable: `refuse` stops listening (ECONNREFUSED), `reset` accepts and
   * destroys connections, `503` answers ServiceUnavailable. Open connections are dropped.
   * With `forMs`, it comes back by itself.
   */
  async unavailable(mode: UnavailableMode = "refuse", forMs?: number): Promise<void> {
    clearTimeout(this.restoreTimer);
    await this.hooks.setUnavailable(mode);
    if (forMs !== undefined) {
      this.restoreTimer = setTimeout(() => void this.hooks.setUnavailable(undefined), forMs);
      this.restoreTimer.unref();
    }
  }

  async available(): Promise<void> {
    clearTimeout(this.restoreTimer);
    await this.hooks.setUnavailable(undefined);
  }

  /** Forgets the watch history: watches resuming from any earlier resourceVersion get 410 Expired. */
  expireWatchHistory(): void {
    this.hooks.compact();
  }

  /** Removes pending failures and latencies (not unavailability). */
  clear(): void {
    this.failures.length = 0;
    this.latencies.clear();
  }

  /** The failure for this request, if a rule claims it (counting it down). */
  take(request: RequestRecord): InjectedFailure | "conflict" | undefined {
    const rule = this.failures.find((r) => r.remaining > 0 && matchesRequest(r.matcher, request));
    if (!rule) return undefined;
    rule.remaining--;
    if (rule.remaining === 0) this.failures.splice(this.failures.indexOf(rule), 1);
    return rule.failure;
  }

  delayFor(request: RequestRecord): number {
    let ms = 0;
    for (const rule of this.latencies) if (matchesRequest(rule.matcher, request)) ms += rule.ms;
    return ms;
  }

  dispose(): void {
    clearTimeout(this.restoreTimer);
  }
}

export class RequestLog {
  private readonly records: RequestRecord[] = [];
  private readonly waiters = new Set<(r: RequestRecord) => void>();

  add(record: RequestRecord): void {
    this.records.push(record);
    for (const waiter of [...this.waiters]) waiter(record);
  }

  /** Calls the listener with every request from now on, as it arrives; returns the unsubscribe function. */
  onRequest(listener: (r: RequestRecord) => void): () => void {
    this.waiters.add(listener);
    return () => this.waiters.delete(listener);
  }

  all(): readonly RequestRecord[] {
    return this.records;
  }

  find(matcher: RequestMatcher): RequestRecord[] {
    return this.records.filter((r) => matchesRequest(matcher, r));
  }

  clear(): void {
    this.records.length = 0;
  }

  /** Resolves with the first matching request from now on (or already logged, with `includePast`). */
  waitFor(matcher: RequestMatcher, options: { timeoutMs?: number; includePast?: boolean } = {}): Promise<RequestRecord> {
    const past = options.includePast ? this.find(matcher)[0] : undefined;
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 5000;
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no matching request within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (r: RequestRecord) => {
        if (!matchesRequest(matcher, r)) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(r);
      };
      this.waiters.add(waiter);
    });
  }
}
