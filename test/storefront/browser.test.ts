// A real headless Chromium (Debian's package, JavaScript off) buys sites in the sandbox: catalog,
// options, checkout, pay on the stub's hosted page, the order page until Ready; then the
// simulated Aegir has the site as bought. Also a declined payment and a taken domain.
// Screenshots and page weights go to .ci/out/storefront/.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION } from "../../crds/group.ts";
import { type Sandbox, TRACKER } from "../harness/sandbox.ts";
import { startTestSandbox } from "../helpers/sandbox.ts";
import { tempDir } from "../helpers/tmp.ts";

const CHROMIUM = "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
if (!present) console.warn(`storefront browser tests skipped: install Debian's chromium (${CHROMIUM} is absent)`);
const OUT = join(import.meta.dirname, "../../.ci/out/storefront");

describe.skipIf(!present)("storefront in a browser (Debian's chromium)", () => {
  const dir = tempDir();
  let sandbox: Sandbox;
  let browser: Browser;
  const weights: Record<string, number> = {};

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    sandbox = await startTestSandbox(dir);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      // playwright gives every launch a new empty profile directory (it refuses --user-data-dir here).
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await sandbox?.stop();
    writeFileSync(join(OUT, "page-weights.json"), `${JSON.stringify(weights, null, 2)}\n`);
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    page.on("response", (response) => {
      void response.body().then(
        (body) => {
          const path = new URL(response.url()).pathname.replace(/cs_test_\w+|bps_\w+/, ":id");
          weights[`${response.request().method()} ${path}`] = body.length;
        },
        () => undefined,
      );
    });
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });

  it("buys a Business kit with one add-on and 10 extra users on a subdomain, and the site is as bought", async () => {
    const page = await newPage();
    await page.goto(sandbox.info.storefront);
    await shot(page, "1-catalog");
    await page.getByRole("link", { name: "Choose Business" }).click();
    await page.getByLabel(/Analytics/).check();
    await page.getByLabel(/^Extra users/).fill("10");
    await page.getByRole("textbox", { name: "Subdomain" }).fill("browserco");
    await page.getByRole("button", { name: "Check address and update total" }).click();
    await expect.poll(() => page.locator(".total").textContent()).toBe("$138.00 / month");
    expect(await page.locator(".available").textContent()).toBe("browserco.sites.openatria.com is available.");
    await shot(page, "2-cart");
    await page.getByRole("button", { name: "Checkout" }).click();
    await page.getByLabel("E-mail").fill("buyer@example.com");
    await shot(page, "3-stripe-checkout");
    const paidAt = Date.now();
    await page.getByRole("button", { name: "Pay", exact: true }).click();
    await page.waitForURL(/\/shop\/orders\/cs_test_/);
    await shot(page, "4-order-progress");
    await page.getByRole("heading", { name: "Your site is ready" }).waitFor({ timeout: 60_000 });
    const payToReady = Date.now() - paidAt;
    weights["pay to ready ms"] = payToReady;
    console.log(`storefront: Pay to Ready in ${payToReady} ms`);
    expect(await page.textContent("main")).toContain("sent to buyer@example.com");
    await shot(page, "5-order-ready");

    const site = sandbox.sim.site("browserco.sites.openatria.com");
    expect(site?.drupal?.modules).toEqual(expect.arrayContaining(["oa_events", "oa_worktracker", "oa_files", "oa_analytics"]));
    expect(site?.drupal?.variables.get("theme_default")).toBe("oa_radix");
    expect(site?.drupal?.variables.get("user_limit")).toBe(60);
    expect(site?.drupal?.outbox.filter((m) => m.kind === "register_admin_created").map((m) => m.to)).toEqual(["buyer@example.com"]);
    const tracker = [...(sandbox.sim.site(TRACKER)?.drupal?.users.values() ?? [])].find((u) => u.mail === "buyer@example.com");
    expect(tracker?.roles).toContain("customer standard");

    await page.getByRole("button", { name: "Manage subscription" }).click();
    expect(await page.textContent("h1")).toBe("Customer portal (Stripe stub)");
  }, 90_000);

  it("a declined payment creates nothing and returns to the cart; a taken domain is refused before Stripe", async () => {
    const before = sandbox.api.objects.list(API_VERSION, "HostedSite", { namespace: "customers" }).length;
    const page = await newPage();
    await page.goto(`${sandbox.info.storefront}cart?kit=community&subdomain=declined`);
    await page.getByRole("button", { name: "Checkout" }).click();
    await page.getByRole("button", { name: "Fail payment" }).click();
    expect(await page.getByRole("alert").textContent()).toBe("Your card was declined. No payment was taken.");
    await shot(page, "6-payment-declined");
    await page.getByRole("link", { name: "Back to the shop" }).click();
    expect(await page.getByRole("status").first().textContent()).toContain("Payment not completed: nothing was charged.");
    await shot(page, "7-cart-after-decline");
    expect(sandbox.api.objects.list(API_VERSION, "HostedSite", { namespace: "customers" })).toHaveLength(before);

    const sessions = sandbox.stripe.checkout.sessions.size;
    await page.goto(`${sandbox.info.storefront}cart?kit=community&subdomain=acme`);
    await page.getByRole("button", { name: "Checkout" }).click();
    expect(await page.getByRole("alert").textContent()).toContain("acme.sites.openatria.com is already taken; choose another address");
    await shot(page, "8-domain-taken");
    expect(sandbox.stripe.checkout.sessions.size).toBe(sessions);
  }, 60_000);
});
