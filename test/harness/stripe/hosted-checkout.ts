// The stub's stand-in for Stripe's hosted Checkout page and Customer Portal, for a browser.
// `GET /checkout/:id` shows the order with an e-mail field and "Pay" / "Fail payment". Pay
// creates the customer and the subscription, completes the session, delivers a signed
// checkout.session.completed to the configured webhook (waiting for its answer, as Stripe waits
// up to 10 s before redirecting) and redirects to the success URL. Fail payment declines the card
// as Stripe's page does: the session stays open, nothing is created, no event is sent.
import type { IncomingMessage, ServerResponse } from "node:http";
import { checkoutEvent, signedDelivery } from "./events.ts";
import { stripeId } from "./orders.ts";
import type { StripeStub, StubCheckoutSession } from "./stub.ts";

export interface OpenSession {
  id: string;
  lineItems: { price: string; quantity: number }[];
  metadata: Record<string, string>;
  subscriptionMetadata: Record<string, string>;
  successUrl: string;
  cancelUrl: string;
  status: "open" | "complete";
}

export interface HostedCheckout {
  /** Sessions created through the API, by id. */
  readonly open: (input: Omit<OpenSession, "id" | "status">) => OpenSession;
  readonly sessions: Map<string, OpenSession>;
  readonly portals: Map<string, { customer: string; returnUrl: string | null }>;
  /** Where paid sessions' events are delivered, signed with `secret`. */
  deliverTo: { url: string; secret: string } | null;
  /** Webhook answers to the deliveries made so far (HTTP status, or 0 when unreachable). */
  readonly deliveries: number[];
  render(session: OpenSession): Record<string, unknown>;
  serve(req: IncomingMessage, res: ServerResponse, url: URL): void;
}

const DELIVERY_TIMEOUT_MS = 10_000;

export function hostedCheckout(stubOf: () => StripeStub): HostedCheckout {
  const sessions = new Map<string, OpenSession>();
  const deliveries: number[] = [];
  const checkout: HostedCheckout = {
    sessions,
    portals: new Map(),
    deliverTo: null,
    deliveries,
    open(input) {
      const session: OpenSession = { ...input, id: stripeId("cs_test"), status: "open" };
      sessions.set(session.id, session);
      return session;
    },
    render(session) {
      return {
        id: session.id,
        object: "checkout.session",
        mode: "subscription",
        status: session.status,
        payment_status: session.status === "complete" ? "paid" : "unpaid",
        metadata: session.metadata,
        success_url: session.successUrl,
        cancel_url: session.cancelUrl,
        url: `${stubOf().url}/checkout/${session.id}`,
        livemode: false,
      };
    },
    serve(req, res, url) {
      const [page, id] = url.pathname.split("/").filter(Boolean);
      if (page === "portal" && id !== undefined && req.method === "GET") return portalPage(res, checkout.portals.get(id));
      const session = page === "checkout" && id !== undefined ? sessions.get(id) : undefined;
      if (session === undefined) return html(res, 404, layout("Not found", "<p>No such Checkout Session.</p>"));
      if (session.status === "complete") return redirect(res, successUrl(session));
      if (req.method === "GET") return html(res, 200, payPage(stubOf(), session, null));
      if (req.method !== "POST") return html(res, 405, layout("Not allowed", "<p>GET or POST only.</p>"));
      let text = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (text += chunk));
      req.on("end", () => {
        const form = new URLSearchParams(text);
        const email = (form.get("email") ?? "").trim();
        if (form.get("action") === "fail") return html(res, 402, payPage(stubOf(), session, "Your card was declined. No payment was taken."));
        if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) return html(res, 400, payPage(stubOf(), session, "Enter the e-mail address for your receipt and your site."));
        void complete(stubOf(), checkout, session, email, (form.get("name") ?? "").trim()).then(() => redirect(res, successUrl(session)));
      });
    },
  };
  return checkout;
}

/** Pays the session: customer, subscription, completed session, then the signed event. */
async function complete(stub: StripeStub, checkout: HostedCheckout, session: OpenSession, email: string, name: string): Promise<void> {
  const customer = stripeId("cus");
  stub.customers.set(customer, { id: customer, email, name: name === "" ? null : name });
  const subscription = stripeId("sub");
  const recurring = session.lineItems.filter((l) => stub.prices.get(l.price)?.type !== "one_time");
  stub.subscriptions.set(subscription, { id: subscription, customer, status: "active", items: recurring, metadata: session.subscriptionMetadata });
  const completed: StubCheckoutSession = {
    id: session.id,
    subscription,
    customer,
    payment_status: "paid",
    email,
    name: name === "" ? null : name,
    metadata: session.metadata,
    line_items: session.lineItems,
  };
  stub.sessions.set(session.id, completed);
  session.status = "complete";
  if (checkout.deliverTo === null) return;
  const delivery = signedDelivery(checkoutEvent(stub, "checkout.session.completed", session.id), checkout.deliverTo.secret);
  const response = await fetch(checkout.deliverTo.url, {
    method: "POST",
    headers: delivery.headers,
    body: delivery.payload,
    signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
  }).catch(() => null);
  checkout.deliveries.push(response?.status ?? 0);
}

function successUrl(session: OpenSession): string {
  return session.successUrl.replaceAll("{CHECKOUT_SESSION_ID}", session.id);
}

function payPage(stub: StripeStub, session: OpenSession, problem: string | null): string {
  const rows = session.lineItems.map((line) => {
    const price = stub.prices.get(line.price);
    const product = price === undefined ? undefined : stub.products.get(price.product);
    const amount = ((price?.unit_amount ?? 0) * line.quantity) / 100;
    const per = price?.type === "one_time" ? "once" : `/ ${price?.interval ?? "month"}`;
    return `<tr><td>${esc(product?.name ?? line.price)}</td><td>${line.quantity}</td><td>${amount.toFixed(2)} ${esc(price?.currency ?? "usd")} ${per}</td></tr>`;
  });
  return layout(
    "Pay (Stripe stub)",
    `${problem === null ? "" : `<p role="alert" class="problem">${esc(problem)}</p>`}
<table><caption>Your order</caption><thead><tr><th scope="col">Item</th><th scope="col">Qty</th><th scope="col">Amount</th></tr></thead><tbody>${rows.join("")}</tbody></table>
<form method="post">
<p><label for="email">E-mail</label><br><input id="email" name="email" type="email" autocomplete="email" required></p>
<p><label for="name">Name on the card</label><br><input id="name" name="name" autocomplete="name"></p>
<p><button name="action" value="pay">Pay</button> <button name="action" value="fail" formnovalidate>Fail payment</button></p>
</form>
<p><a href="${esc(session.cancelUrl)}">Back to the shop</a></p>`,
  );
}

function portalPage(res: ServerResponse, portal: { customer: string; returnUrl: string | null } | undefined): void {
  if (portal === undefined) return html(res, 404, layout("Not found", "<p>No such portal session.</p>"));
  html(res, 200, layout("Customer portal (Stripe stub)", `<p>Subscriptions of ${esc(portal.customer)} would be managed here.</p>${portal.returnUrl === null ? "" : `<p><a href="${esc(portal.returnUrl)}">Return</a></p>`}`));
}

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:.3rem;text-align:left}
button{font:inherit;padding:.5rem 1rem}.problem{background:#fde8e8;color:#8a1c1c;padding:.5rem}</style></head>
<body><main><h1>${esc(title)}</h1>${body}</main></body></html>`;
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(body) }).end(body);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location }).end();
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
