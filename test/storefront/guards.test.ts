// The storefront's guards: form tokens, the checkout rate limit, the brand colour's contrast.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../common/config.ts";
import { WEBHOOK_OPTIONS } from "../../webhook/config.ts";
import { contrastRatio } from "../../webhook/storefront/contrast.ts";
import { csrfTokens, readCookie } from "../../webhook/storefront/csrf.ts";
import { rateLimiter } from "../../webhook/storefront/rate-limit.ts";

describe("form tokens", () => {
  it("accept the token of the browser's own cookie only", () => {
    const csrf = csrfTokens(["k".repeat(32)]);
    const cookie = csrf.issue();
    const other = csrf.issue();
    expect(csrf.verify(cookie, csrf.tokenFor(cookie))).toBe(true);
    expect(csrf.verify(other, csrf.tokenFor(cookie))).toBe(false);
    expect(csrf.verify(undefined, csrf.tokenFor(cookie))).toBe(false);
    expect(csrf.verify(cookie, undefined)).toBe(false);
    expect(csrf.verify(cookie, "")).toBe(false);
    expect(csrfTokens(["j".repeat(32)]).verify(cookie, csrf.tokenFor(cookie))).toBe(false);
    expect(csrf.valid("short")).toBeUndefined();
    expect(readCookie(`a=1; shop_csrf=${cookie}; b=2`, "shop_csrf")).toBe(cookie);
  });

  it("keep accepting the previous key's tokens while a key is rotated, and sign with the new one", () => {
    const [oldKey, newKey] = ["o".repeat(32), "n".repeat(32)];
    const before = csrfTokens([oldKey]);
    const rotating = csrfTokens([newKey, oldKey]);
    const after = csrfTokens([newKey]);
    const cookie = before.issue();
    const openForm = before.tokenFor(cookie);
    expect(rotating.verify(cookie, openForm)).toBe(true);
    expect(rotating.tokenFor(cookie)).toBe(after.tokenFor(cookie));
    expect(after.verify(cookie, openForm)).toBe(false);
  });
});

describe("storefront configuration", () => {
  const env = { STRIPE_WEBHOOK_SECRETS: "whsec_x", STRIPE_API_KEY: "sk_test_x" };
  const load = (flags: [string, string][], more: Record<string, string> = {}) => loadConfig(WEBHOOK_OPTIONS, new Map(flags), { ...env, ...more });

  it("reads the form-token keys, current first, and refuses short ones without echoing them", () => {
    expect(load([]).storefrontFormKeys).toEqual([]);
    expect(load([], { STOREFRONT_FORM_KEY: `${"a".repeat(32)}, ${"b".repeat(40)}` }).storefrontFormKeys).toEqual(["a".repeat(32), "b".repeat(40)]);
    expect(() => load([["storefront-form-key", "tooshort"]])).toThrow("--storefront-form-key / STOREFRONT_FORM_KEY ([0]): each key must be at least 32 characters");
    expect(() => load([["storefront-form-key", "tooshort"]])).not.toThrow(/tooshort/);
  });

  it("trusts no proxy by default, and takes a hop count or proxy addresses", () => {
    expect(load([]).trustProxy).toBe(false);
    expect(load([["trust-proxy", "1"]]).trustProxy).toBe(1);
    expect(load([], { TRUST_PROXY: "10.0.0.0/8, fd00::/8,loopback" }).trustProxy).toEqual(["10.0.0.0/8", "fd00::/8", "loopback"]);
    expect(() => load([["trust-proxy", "true"]])).toThrow('--trust-proxy / TRUST_PROXY: must be false, the number of proxies in front, or their addresses/CIDRs like 10.0.0.0/8 (not "true")');
    expect(() => load([["trust-proxy", "10.0.0.0/33"]])).toThrow("(not \"10.0.0.0/33\")");
    expect(() => load([["trust-proxy", "99"]])).toThrow("a hop count must be at most 16");
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
