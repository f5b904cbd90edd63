// Keeps this process's Stripe reads within a request rate (Stripe allows 100 read requests/s in
// live mode, 25 in test mode), shared by the inbox worker and the re-sync pass: every HTTP
// request the SDK makes, its own retries included, takes a slot. A 429 pauses every caller
// for its Retry-After; the SDK's own retry of it then waits its turn.
import type Stripe from "stripe";

/** The SDK's HTTP client interface (Stripe.createNodeHttpClient() makes one). */
export type StripeHttpClient = NonNullable<Stripe.StripeConfig["httpClient"]>;

/** A token bucket as a schedule (GCRA): each request reserves the next free slot. */
export class RequestRateLimiter {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  private readonly now: () => number;
  /** When the next request may go if there were no burst allowance. */
  private nextSlot = 0;

  constructor(
    ratePerSecond: number,
    /** Requests that may go at once after an idle spell. */
    burst = Math.max(1, Math.ceil(ratePerSecond / 10)),
    now: () => number = Date.now,
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError("ratePerSecond must be positive");
    this.now = now;
    this.intervalMs = 1000 / ratePerSecond;
    this.toleranceMs = (Math.max(1, burst) - 1) * this.intervalMs;
  }

  /** Resolves when the caller may send one request. */
  async take(): Promise<void> {
    const now = this.now();
    const slot = Math.max(this.nextSlot, now);
    this.nextSlot = slot + this.intervalMs;
    const wait = slot - this.toleranceMs - now;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /** No request goes before `ms` from now (Stripe's Retry-After). */
  pause(ms: number): void {
    this.nextSlot = Math.max(this.nextSlot, this.now() + ms + this.toleranceMs);
  }
}

export interface RateLimitOptions {
  /** Used when a 429 carries no Retry-After. */
  defaultRetryAfterMs?: number;
  /** A longer Retry-After is cut to this (a hostile or broken header must not stall the process). */
  maxRetryAfterMs?: number;
  /** Told of every response status, e.g. for a metric. */
  onResponse?: (status: number) => void;
}

/**
 * Wraps the SDK's HTTP client (Stripe.createNodeHttpClient()) so that every request is paced. A
 * 429 goes back to the SDK, which retries it when Stripe-Should-Retry allows (maxNetworkRetries);
 * retrying here as well would multiply the requests sent into a rate limit.
 */
export function rateLimitedHttpClient(inner: StripeHttpClient, limiter: RequestRateLimiter, options: RateLimitOptions = {}): StripeHttpClient {
  const fallbackMs = options.defaultRetryAfterMs ?? 1_000;
  const capMs = options.maxRetryAfterMs ?? 60_000;
  return {
    getClientName: () => inner.getClientName(),
    async makeRequest(host, port, path, method, headers, requestData, protocol, timeout) {
      await limiter.take();
      const response = await inner.makeRequest(host, port, path, method, headers, requestData, protocol, timeout);
      const status = response.getStatusCode();
      options.onResponse?.(status);
      if (status === 429) limiter.pause(Math.min(capMs, retryAfterMs(response.getHeaders()["retry-after"]) ?? fallbackMs));
      return response;
    },
  };
}

/** Retry-After in seconds (Stripe's form) or as an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | string[] | number | undefined, now = Date.now()): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return null;
  const seconds = Number(text);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(String(text));
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
