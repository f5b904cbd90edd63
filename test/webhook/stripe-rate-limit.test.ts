// The request rate limiter every Stripe call of the webhook goes through (fake timers).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { rateLimitedHttpClient, RequestRateLimiter, retryAfterMs, type StripeHttpClient } from "../../webhook/stripe-rate-limit.ts";

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Takes `n` slots as fast as the limiter lets them go; resolves the times they went. */
async function timesOf(limiter: RequestRateLimiter, n: number): Promise<number[]> {
  const times: number[] = [];
  const all = Array.from({ length: n }, () => limiter.take().then(() => times.push(Date.now())));
  await vi.runAllTimersAsync();
  await Promise.all(all);
  return times.sort((a, b) => a - b);
}

describe("RequestRateLimiter", () => {
  it("lets a burst go at once, then one request per 1/rate", async () => {
    const times = await timesOf(new RequestRateLimiter(25, 3), 8);
    expect(times).toEqual([0, 0, 0, 40, 80, 120, 160, 200]);
  });

  it("never lets more than rate + burst requests into any second", async () => {
    const times = await timesOf(new RequestRateLimiter(25), 200);
    const peak = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
    expect(peak).toBeLessThanOrEqual(25 + 3);
    expect(times.at(-1)).toBeGreaterThanOrEqual((200 - 3) * 40);
  });

  it("holds every caller back for a pause (Retry-After)", async () => {
    const limiter = new RequestRateLimiter(100, 1);
    limiter.pause(2_000);
    expect(await timesOf(limiter, 2)).toEqual([2_000, 2_010]);
  });

  it("refuses a rate that is not positive", () => {
    expect(() => new RequestRateLimiter(0)).toThrow(/ratePerSecond/);
  });
});

describe("retryAfterMs", () => {
  it("reads seconds and HTTP dates, and nothing else", () => {
    expect(retryAfterMs("2")).toBe(2_000);
    expect(retryAfterMs(["0.5"])).toBe(500);
    expect(retryAfterMs(new Date(3_000).toUTCString(), 0)).toBe(3_000);
    expect(retryAfterMs(undefined)).toBeNull();
    expect(retryAfterMs("soon")).toBeNull();
  });
});

function fakeClient(answers: { status: number; headers?: Record<string, string> }[]) {
  const sent: { method: string; at: number }[] = [];
  const client: StripeHttpClient = {
    getClientName: () => "fake",
    makeRequest: (_host, _port, _path, method) => {
      sent.push({ method, at: Date.now() });
      const a = answers.shift() ?? { status: 200 };
      return Promise.resolve({
        getStatusCode: () => a.status,
        getHeaders: () => a.headers ?? {},
        getRawResponse: () => null,
        toStream: () => null,
        toJSON: () => Promise.resolve({}),
      });
    },
  };
  return { client, sent };
}

async function send(client: StripeHttpClient, method = "GET"): Promise<number> {
  const response = client.makeRequest("api.stripe.com", "443", "/v1/subscriptions", method, {}, "", "https", 1000);
  await vi.runAllTimersAsync();
  return (await response).getStatusCode();
}

describe("rateLimitedHttpClient", () => {
  it("holds the next request back for a 429's Retry-After, hands the 429 to the SDK, and counts every response", async () => {
    const { client, sent } = fakeClient([{ status: 429, headers: { "retry-after": "3" } }, { status: 200 }]);
    const statuses: number[] = [];
    const paced = rateLimitedHttpClient(client, new RequestRateLimiter(100, 1), { onResponse: (s) => statuses.push(s) });
    expect(await send(paced)).toBe(429);
    expect(await send(paced, "POST")).toBe(200);
    expect(sent.map((s) => s.at)).toEqual([0, 3_000]);
    expect(statuses).toEqual([429, 200]);
  });

  it("caps an absurd Retry-After", async () => {
    const { client, sent } = fakeClient([{ status: 429, headers: { "retry-after": "86400" } }]);
    const paced = rateLimitedHttpClient(client, new RequestRateLimiter(100, 1), { maxRetryAfterMs: 5_000 });
    await send(paced);
    await send(paced);
    expect(sent[1]?.at).toBe(5_000);
  });
});
