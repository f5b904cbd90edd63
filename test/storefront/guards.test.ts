// The storefront's guards: form tokens, the checkout rate limit, the brand colour's contrast.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../common/config.ts";
import { WEBHOOK_OPTIONS } from "../../webhook/config.ts";
import { contrastRatio } from "../../webhook/storefront/contrast.ts";
import { csrfTokens, readCookie } from "../../webhook/storefront/csrf.ts";
import { rateLimiter } from "../../webhook/storefront/rate-limit.ts";

describe("form tokens", () => {
  it("accept the token of the browser's own cookie only", () => {
    const csrf = csrfTokens("k".repeat(32));
    const cookie = csrf.issue();
    const other = csrf.issue();
    expect(csrf.verify(cookie, csrf.tokenFor(cookie))).toBe(true);
    expect(csrf.verify(other, csrf.tokenFor(cookie))).toBe(false);
    expect(csrf.verify(undefined, csrf.tokenFor(cookie))).toBe(false);
    expect(csrf.verify(cookie, undefined)).toBe(false);
    expect(csrf.verify(cookie, "")).toBe(false);
    expect(csrfTokens("j".repeat(32)).verify(cookie, csrf.tokenFor(cookie))).toBe(false);
    expect(csrf.valid("short")).toBeUndefined();
    expect(readCookie(`a=1; shop_csrf=${cookie}; b=2`, "shop_csrf")).toBe(cookie);
  });
});

describe("rate limit", () => {
  it("allows `limit` per window per client, refills over time, and forgets old clients", () => {
    let now = 0;
    const limiter = rateLimiter({ limit: 2, windowMs: 60_000, maxClients: 2, now: () => now });
    expect(limiter.take("a")).toEqual({ ok: true });
    expect(limiter.take("a")).toEqual({ ok: true });
    expect(limiter.take("a")).toEqual({ ok: false, retryAfterSeconds: 30 });
    expect(limiter.take("b")).toEqual({ ok: true });
    now = 30_000;
    expect(limiter.take("a")).toEqual({ ok: true });
    expect(limiter.take("a").ok).toBe(false);
    limiter.take("c");
    limiter.take("d");
    // "a" was forgotten (least recently seen), so it starts with a full bucket.
    expect(limiter.take("a")).toEqual({ ok: true });
  });
});

describe("branding", () => {
  it("computes WCAG contrast and refuses a brand colour white text cannot be read on", () => {
    expect(contrastRatio("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(contrastRatio("#1d4ed8", "#ffffff")).toBeGreaterThan(4.5);
    const env = { STRIPE_WEBHOOK_SECRETS: "whsec_x", STRIPE_API_KEY: "sk_test_x" };
    expect(() => loadConfig(WEBHOOK_OPTIONS, new Map([["shop-accent", "#ffdd00"]]), env)).toThrow(
      '--shop-accent / SHOP_ACCENT: must be dark enough for white text (contrast at least 4.5:1) (got "#ffdd00")',
    );
    expect(loadConfig(WEBHOOK_OPTIONS, new Map([["shop-accent", "#7a1f5c"]]), env).shopAccent).toBe("#7a1f5c");
  });
});
