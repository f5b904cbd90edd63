// `catalog sync`: the pure plan, and the command against the Stripe stub (idempotent, dry run,
// changed prices transferred, unnamed prices reported and kept).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../controller/cli.ts";
import { CatalogError, loadCatalog, parseCatalog, type Catalog } from "../../webhook/catalog.ts";
import { planCatalogSync, productId, type RemotePrice } from "../../webhook/catalog-sync.ts";
import { startStripeStub, type StripeStub } from "../harness/stripe/stub.ts";
import { captureIO } from "../helpers/io.ts";
import { tempDir } from "../helpers/tmp.ts";

const catalog: Catalog = await loadCatalog();
const priced = Object.entries(catalog.items).filter(([, item]) => item.price !== undefined);

function remotePrice(overrides: Partial<RemotePrice> & Pick<RemotePrice, "id">): RemotePrice {
  return { product: productId("business"), lookupKey: "business_monthly", currency: "usd", amount: 9900, interval: "month", active: true, ...overrides };
}

describe("catalog sync plan", () => {
  it("creates every product and price of an empty account, products first", () => {
    const plan = planCatalogSync(catalog, { products: [], prices: [] });
    const kinds = plan.actions.map((a) => a.kind);
    expect(kinds.filter((k) => k === "create-product")).toHaveLength(Object.keys(catalog.products).length);
    expect(kinds.filter((k) => k === "create-price")).toHaveLength(priced.length);
    expect(kinds.lastIndexOf("create-product")).toBeLessThan(kinds.indexOf("create-price"));
    expect(plan.unnamed).toEqual([]);
  });

  it("replaces a price whose amount changed, transferring its lookup key, and reactivates a matching inactive one", () => {
    const small = parseCatalog(
      `managedZone: sites.example.com
products: { business: { name: Business } }
kits: { business: { profile: openatrium, userQuota: 5, support: { tier: Basic } } }
items:
  business_monthly: { kit: business, price: { product: business, amount: 9900, interval: month } }
  business_yearly: { kit: business, price: { product: business, amount: 99000, interval: year } }`,
      "small.yaml",
    );
    const products = [{ id: productId("business"), name: "Business", description: null, active: true }];
    const old = remotePrice({ id: "price_old", amount: 9000 });
    const inactive = remotePrice({ id: "price_y", lookupKey: "business_yearly", amount: 99000, interval: "year", active: false });
    const plan = planCatalogSync(small, { products, prices: [old, inactive] });
    expect(plan.actions).toEqual([
      { kind: "create-price", lookupKey: "business_monthly", productId: productId("business"), terms: { amount: 9900, currency: "usd", interval: "month" }, replaces: old },
      { kind: "activate-price", lookupKey: "business_yearly", priceId: "price_y" },
    ]);
  });

  it("reports active prices of its products that the catalog does not name, and nothing else", () => {
    const products = Object.keys(catalog.products).map((key) => ({ id: productId(key), name: catalog.products[key]?.name ?? "", description: catalog.products[key]?.description ?? null, active: true }));
    const matching = priced.map(([key, item], i) =>
      remotePrice({ id: `price_${i}`, lookupKey: key, product: productId(item.price?.product ?? ""), amount: item.price?.amount ?? 0, interval: item.price?.interval ?? "month" }),
    );
    const stray = remotePrice({ id: "price_stray", lookupKey: "business_weekly" });
    const foreign = remotePrice({ id: "price_foreign", lookupKey: "tshirt", product: "prod_tshirt" });
    const plan = planCatalogSync(catalog, { products, prices: [...matching, stray, foreign, remotePrice({ id: "price_gone", lookupKey: null, active: false })] });
    expect(plan.actions).toEqual([]);
    expect(plan.unnamed.map((p) => p.id)).toEqual(["price_stray"]);
  });

  it("refuses a catalog price naming an unknown product or a one-time kit, naming the field", () => {
    const text = `managedZone: sites.example.com
products: { business: { name: Business } }
kits: { business: { profile: openatrium, userQuota: 5, support: { tier: Basic } } }
items:
  business_monthly: { kit: business, price: { product: busines, amount: 9900, interval: month } }
  business_once: { kit: business, price: { product: business, amount: 9.5, interval: once } }`;
    let problems: string[] = [];
    try {
      parseCatalog(text, "bad.yaml");
    } catch (error) {
      if (!(error instanceof CatalogError)) throw error;
      problems = error.problems;
    }
    expect(problems).toEqual([
      "items.business_once.price.amount: must be a whole number of the currency's smallest unit (cents)",
    ]);
    const fixed = text.replace("amount: 9.5", "amount: 950");
    expect(() => parseCatalog(fixed, "bad.yaml")).toThrow(
      /items\.business_monthly\.price\.product: names product "busines", which is not defined under products[\s\S]*items\.business_once\.price\.interval: a kit is a subscription/,
    );
  });
});

describe("aegir-operator catalog sync against the Stripe stub", () => {
  let stub: StripeStub;
  beforeEach(async () => {
    stub = await startStripeStub();
  });
  afterEach(async () => {
    await stub.close();
  });

  async function sync(...args: string[]) {
    const io = captureIO();
    const code = await main(["catalog", "sync", "--stripe-api-key", stub.apiKey, "--stripe-api-base", stub.url, ...args], io);
    return { code, out: io.out(), err: io.err() };
  }

  it("dry run changes nothing; a run creates everything; a second run changes nothing and says so", async () => {
    const dry = await sync("--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('would create product aegir_business "Business"');
    expect(dry.out).toContain("would create price business_monthly: 99.00 usd / month (product aegir_business)");
    expect(dry.out).toContain("(dry run: none made)");
    expect(stub.products.size + stub.prices.size).toBe(0);

    const first = await sync();
    expect(first.code).toBe(0);
    expect(first.out).toContain(`${Object.keys(catalog.products).length + priced.length} changes made.`);
    expect(stub.products.get("aegir_theme_radix")).toMatchObject({ name: "Radix theme", description: "A clean, responsive theme." });
    const yearly = [...stub.prices.values()].find((p) => p.lookup_key === "business_yearly");
    expect(yearly).toMatchObject({ product: "aegir_business", unit_amount: 99000, currency: "usd", interval: "year", type: "recurring" });
    expect([...stub.prices.values()].find((p) => p.lookup_key === "theme_radix")?.type).toBe("one_time");

    const before = stub.requests.filter((r) => r.startsWith("POST")).length;
    const second = await sync();
    expect(second).toEqual({ code: 0, out: "Stripe matches the catalog: nothing to change.\n", err: "" });
    expect(stub.requests.filter((r) => r.startsWith("POST")).length).toBe(before);
  });

  it("moves a changed price's lookup key to a new price, keeps the old one and reports it; renames products", async () => {
    expect((await sync()).code).toBe(0);
    const old = [...stub.prices.values()].find((p) => p.lookup_key === "business_monthly");
    const dir = tempDir("catalog-sync");
    const file = join(dir, "catalog.yaml");
    const text = readFileSync(new URL("../../webhook/default-catalog.yaml", import.meta.url), "utf8")
      .replace("business_monthly: { kit: business, price: { product: business, amount: 9900", "business_monthly: { kit: business, price: { product: business, amount: 10900")
      .replace("business: { name: Business,", "business: { name: Business Plus,");
    writeFileSync(file, text);

    const changed = await sync("--catalog", file);
    expect(changed.code).toBe(0);
    expect(changed.out).toContain(`update product aegir_business: name "Business" -> "Business Plus"`);
    expect(changed.out).toContain(`replace price business_monthly: ${old?.id} 99.00 usd / month -> 109.00 usd / month`);
    expect(changed.out).toContain("2 changes made.");
    expect(stub.prices.get(old?.id ?? "")).toMatchObject({ lookup_key: null, active: true, unit_amount: 9900 });

    const again = await sync("--catalog", file);
    expect(again.code).toBe(0);
    expect(again.out).toBe(`not in the catalog, left as is: price ${old?.id} (no lookup key, 99.00 usd / month, product aegir_business)\nStripe matches the catalog: nothing to change.\n`);
  });

  it("says what is wrong: no sync word, a bad key, Stripe unreachable", async () => {
    expect((await sync()).code).toBe(0);
    const io = captureIO();
    expect(await main(["catalog", "--stripe-api-key", "sk_test_x"], io)).toBe(2);
    expect(io.err()).toContain('expected "sync", got nothing');
    const bad = captureIO();
    expect(await main(["catalog", "sync", "--stripe-api-key", "pk_live_oops"], bad)).toBe(2);
    expect(bad.err()).toContain("--stripe-api-key / STRIPE_API_KEY: must be a Stripe secret or restricted key (sk_... or rk_...) (value hidden)");
    stub.fail(Infinity, 500);
    const down = await sync();
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/^catalog: sync failed: /);
  });
});
