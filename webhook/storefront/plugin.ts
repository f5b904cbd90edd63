// The storefront as a fastify plugin under its own prefix: the catalog, the configurator/cart,
// checkout (a Stripe Checkout Session, then a redirect to it), the order's progress page and the
// Customer Portal link. Nothing here provisions anything: the webhook does, once Stripe says paid.
import { readFileSync } from "node:fs";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type pg from "pg";
import type { Logger } from "../../common/logger.ts";
import type { Catalog } from "../catalog.ts";
import { CheckoutSessionId } from "../stripe-objects.ts";
import { choiceQuery, quote, readChoice, type Quote } from "./cart.ts";
import { CSRF_COOKIE, csrfTokens, readCookie } from "./csrf.ts";
import type { Branding } from "./html.ts";
import { domainOrdered, orderBySession } from "./ledger.ts";
import { buildOffer } from "./offer.ts";
import { cartPage, catalogPage, messagePage, orderPage } from "./pages.ts";
import { orderProgress } from "./progress.ts";
import { rateLimiter } from "./rate-limit.ts";
import type { SiteDirectory } from "./site-directory.ts";
import { MissingPriceError, type ShopStripe } from "./stripe-checkout.ts";

/** A form of the shop is a few hundred bytes; anything much larger is not one. */
export const FORM_BODY_LIMIT = 16 * 1024;
const STYLESHEET = readFileSync(new URL("./style.css", import.meta.url), "utf8");

export interface StorefrontOptions {
  catalog: Catalog;
  pool: pg.Pool;
  stripe: ShopStripe;
  sites: SiteDirectory;
  logger: Logger;
  prefix: string;
  shopName: string;
  accent: string;
  /** Host an own domain's CNAME points to. */
  dnsTarget: string;
  /** Origin and path prefix customers reach the service at, e.g. https://shop.example.com. */
  publicUrl: () => string;
  /** Where the checkout and portal redirects go (the CSP's form-action must allow them). */
  stripeOrigins: readonly string[];
  csrfKey?: Buffer;
  checkoutRateLimit: number;
  now?: () => number;
}

export function registerStorefront(app: FastifyInstance, options: StorefrontOptions): void {
  const { catalog, pool, stripe, sites, logger, prefix } = options;
  const offer = buildOffer(catalog);
  const brand: Branding = { shopName: options.shopName, accent: options.accent, prefix };
  const stylesheet = STYLESHEET.replace("__ACCENT__", options.accent);
  const csrf = csrfTokens(options.csrfKey);
  const limiter = rateLimiter({ limit: options.checkoutRateLimit, windowMs: 60_000, ...(options.now ? { now: options.now } : {}) });
  const secure = () => options.publicUrl().startsWith("https:");
  const csp = [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    `form-action 'self' ${options.stripeOrigins.join(" ")}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");

  void app.register(
    (scope, _opts, done) => {
      scope.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: FORM_BODY_LIMIT }, (_req, body, next) =>
        next(null, new URLSearchParams(body as string)),
      );
      scope.addHook("onSend", async (_request, reply, payload) => {
        reply.header("content-security-policy", csp);
        reply.header("x-content-type-options", "nosniff");
        reply.header("x-frame-options", "DENY");
        // The order page's address is the customer's only key to it: never send it elsewhere.
        reply.header("referrer-policy", "no-referrer");
        reply.header("cross-origin-opener-policy", "same-origin");
        reply.header("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()");
        if (secure()) reply.header("strict-transport-security", "max-age=31536000");
        if (reply.getHeader("cache-control") === undefined) reply.header("cache-control", "no-store");
        return payload;
      });
      scope.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, request, reply) => {
        const status = error.statusCode ?? 500;
        if (status >= 500) logger.error({ err: error.message, url: request.url }, "storefront request failed");
        const message =
          error.code === "FST_ERR_CTP_BODY_TOO_LARGE"
            ? `The form sent more than ${FORM_BODY_LIMIT / 1024} KiB; this shop's forms are much smaller. Go back and try again.`
            : error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE"
              ? "This page accepts its own form only."
              : status >= 500
                ? "Something went wrong on our side. Nothing was charged; please try again in a minute."
                : "The request could not be understood.";
        return html(reply.code(status), messagePage(brand, status === 413 ? "Form too large" : "Sorry", message, { href: `${prefix}/cart`, label: "Back to your order" }));
      });
      scope.setNotFoundHandler((_request, reply) => html(reply.code(404), messagePage(brand, "Not found", "There is no such page in this shop.", { href: `${prefix}/`, label: "See the plans" })));

      scope.get("/", (_request, reply) => html(reply, catalogPage(brand, offer)));
      scope.get("/style.css", (_request, reply) => reply.header("cache-control", "public, max-age=3600").type("text/css; charset=utf-8").send(stylesheet));

      scope.get("/cart", async (request, reply) => {
        const params = new URLSearchParams(request.url.slice(request.url.indexOf("?") + 1 || request.url.length));
        const cancelled = params.get("cancelled") === "1";
        const q = quote(catalog, offer, readChoice(offer, params), false);
        const available = q.domain === null ? null : await availability(q.domain).catch(() => null);
        return renderCart(request, reply, q, available, cancelled ? "Payment not completed: nothing was charged. You can change your order and check out again." : null);
      });

      // Post/redirect/get: "update total" becomes a plain GET of the cart, so reloading is harmless.
      scope.post("/cart", (request, reply) => {
        const form = formOf(request);
        form.delete("csrf");
        return reply.redirect(`${prefix}/cart?${form.toString()}`, 303);
      });

      scope.post("/checkout", async (request, reply) => {
        const refused = guard(request, reply);
        if (refused !== null) return refused;
        const q = quote(catalog, offer, readChoice(offer, formOf(request)), true);
        if (q.problems.length > 0) return renderCart(request, reply.code(422), q, null, null);
        const domain = q.domain as string;
        const available = await availability(domain).catch((error: unknown) => {
          logger.error({ err: error instanceof Error ? error.message : String(error) }, "storefront: domain availability unknown");
          return null;
        });
        if (available === null) return html(reply.code(503).header("retry-after", "30"), messagePage(brand, "Try again shortly", "We cannot check whether your address is free right now. Nothing was charged.", { href: `${prefix}/cart?${choiceQuery(q.choice)}`, label: "Back to your order" }));
        if (!available) {
          const taken = { ...q, problems: [{ field: q.choice.site === "own" ? "domain" : "subdomain", message: `${domain} is already taken; choose another address` }] };
          return renderCart(request, reply.code(409), taken, false, null);
        }
        try {
          const base = `${options.publicUrl()}${prefix}`;
          const session = await stripe.createCheckout({
            lines: q.lines,
            metadata: q.domainMetadata,
            successUrl: `${base}/orders/{CHECKOUT_SESSION_ID}`,
            cancelUrl: `${base}/cart?${choiceQuery(q.choice)}&cancelled=1`,
          });
          logger.info({ domain, kit: q.choice.kit, lines: q.lines.map((l) => `${l.lookupKey}x${l.quantity}`) }, "storefront: checkout started");
          return reply.redirect(session.url, 303);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          logger.error({ err: message, missingPrice: error instanceof MissingPriceError }, "storefront: checkout could not be created");
          return html(reply.code(503), messagePage(brand, "Checkout unavailable", "We could not open the payment page. Nothing was charged; please try again in a few minutes.", { href: `${prefix}/cart?${choiceQuery(q.choice)}`, label: "Back to your order" }));
        }
      });

      scope.get<{ Params: { session: string } }>("/orders/:session", async (request, reply) => {
        const id = CheckoutSessionId.safeParse(request.params.session);
        if (!id.success) return html(reply.code(404), messagePage(brand, "Not found", "There is no such order.", { href: `${prefix}/`, label: "See the plans" }));
        const order = await orderBySession(pool, id.data);
        const site = order?.provisioned === true ? await sites.status(order.siteNamespace, order.siteName).catch(() => null) : null;
        const token = csrf.tokenFor(cookieFor(request, reply));
        const portalAction = order?.customerId == null ? null : `${prefix}/orders/${id.data}/portal`;
        return html(reply, orderPage(brand, { progress: orderProgress(order, site), csrfToken: token, portalAction }));
      });

      scope.post<{ Params: { session: string } }>("/orders/:session/portal", async (request, reply) => {
        const refused = guard(request, reply);
        if (refused !== null) return refused;
        const id = CheckoutSessionId.safeParse(request.params.session);
        const order = id.success ? await orderBySession(pool, id.data) : null;
        if (!id.success || order?.customerId == null) return html(reply.code(404), messagePage(brand, "Not found", "There is no such order.", { href: `${prefix}/`, label: "See the plans" }));
        try {
          const portal = await stripe.portal(order.customerId, `${options.publicUrl()}${prefix}/orders/${id.data}`);
          return reply.redirect(portal.url, 303);
        } catch (error) {
          logger.error({ err: error instanceof Error ? error.message : String(error) }, "storefront: customer portal unavailable");
          return html(reply.code(503), messagePage(brand, "Portal unavailable", "The subscription portal cannot be opened right now; please try again in a few minutes.", { href: `${prefix}/orders/${id.data}`, label: "Back to your order" }));
        }
      });
      done();
    },
    { prefix },
  );

  async function availability(domain: string): Promise<boolean> {
    if (await domainOrdered(pool, domain)) return false;
    return !(await sites.domainInUse(domain));
  }

  /** The browser's form-token cookie, set now when it has none. */
  function cookieFor(request: FastifyRequest, reply: FastifyReply): string {
    const have = csrf.valid(readCookie(request.headers.cookie, CSRF_COOKIE));
    if (have !== undefined) return have;
    const value = csrf.issue();
    reply.header("set-cookie", `${CSRF_COOKIE}=${value}; Path=${prefix}; HttpOnly; SameSite=Lax${secure() ? "; Secure" : ""}`);
    return value;
  }

  function renderCart(request: FastifyRequest, reply: FastifyReply, q: Quote, available: boolean | null, notice: string | null) {
    const token = csrf.tokenFor(cookieFor(request, reply));
    return html(reply, cartPage(brand, offer, { quote: q, csrfToken: token, available, dnsTarget: options.dnsTarget, notice }));
  }

  /** The shop's own form, within the rate limit, with its token; a refusal is the reply to send. */
  function guard(request: FastifyRequest, reply: FastifyReply): FastifyReply | null {
    // Other content types reach here parsed by fastify's defaults (JSON, text): not this shop's form.
    if (!(request.body instanceof URLSearchParams)) {
      return html(reply.code(415), messagePage(brand, "Sorry", "This page accepts its own form only.", { href: `${prefix}/cart`, label: "Back to your order" }));
    }
    const taken = limiter.take(request.ip);
    if (!taken.ok) {
      logger.warn({ ip: request.ip }, "storefront: checkout rate limit");
      return html(reply.code(429).header("retry-after", String(taken.retryAfterSeconds)), messagePage(brand, "Too many attempts", `Please wait ${taken.retryAfterSeconds} seconds, then try again.`, null));
    }
    const crossSite = request.headers["sec-fetch-site"] === "cross-site";
    if (crossSite || !csrf.verify(readCookie(request.headers.cookie, CSRF_COOKIE), formOf(request).get("csrf") ?? undefined)) {
      logger.warn({ ip: request.ip, crossSite }, "storefront: form token refused");
      return html(reply.code(403), messagePage(brand, "Please try again", "This form has expired or did not come from this shop. Reload your order and check out again; nothing was charged.", { href: `${prefix}/cart`, label: "Back to your order" }));
    }
    return null;
  }
}

function formOf(request: FastifyRequest): URLSearchParams {
  return request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
}

function html(reply: FastifyReply, body: string): FastifyReply {
  return reply.type("text/html; charset=utf-8").send(body);
}
