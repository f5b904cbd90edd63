// A small stateful stand-in for the Stripe API, for tests. The real stripe SDK talks to it via
// its host/port/protocol options. It serves the reads the webhook makes: subscriptions (with
// items, prices, lookup keys, product metadata, quantities), subscription items, Checkout
// Sessions (with line items and custom fields), customers, invoices and their payments, charges
// with their refunds, disputes. Objects are rendered with Stripe's full field sets (render.ts).
// Tests change its state directly.
// The writes a shop makes (products, prices, Checkout and Customer Portal sessions) and the
// hosted Checkout page a browser pays on are in write-api.ts and hosted-checkout.ts.
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostedCheckout, type HostedCheckout } from "./hosted-checkout.ts";
import {
  list,
  renderCharge,
  renderCustomer,
  renderDispute,
  renderInvoice,
  renderInvoicePayment,
  renderItem,
  renderLineItem,
  renderRefund,
  renderSession,
  renderSubscription,
} from "./render.ts";
import { serveWrites } from "./write-api.ts";

export interface StubProduct {
  id: string;
  metadata?: Record<string, string>;
  name?: string;
  description?: string | null;
  active?: boolean;
  created?: number;
}

export interface StubPrice {
  id: string;
  product: string;
  lookup_key?: string | null;
  type?: "recurring" | "one_time";
  currency?: string;
  unit_amount?: number | null;
  interval?: "day" | "week" | "month" | "year";
  active?: boolean;
  created?: number;
}

export interface StubItem {
  price: string;
  quantity?: number;
}

export interface StubSubscription {
  id: string;
  customer: string;
  status: string;
  items: StubItem[];
  metadata?: Record<string, string>;
  created?: number;
  /** The billing period (unix seconds), rendered on every item as Stripe does since basil; 30 days from `created` by default. */
  current_period_start?: number;
  current_period_end?: number;
  canceled_at?: number | null;
  ended_at?: number | null;
  /** Announced cancellation: at the period end, or at a set time. */
  cancel_at_period_end?: boolean;
  cancel_at?: number | null;
  /** Payment collection paused (the status stays as it is). */
  pause_collection?: { behavior: "keep_as_draft" | "mark_uncollectible" | "void"; resumes_at: number | null } | null;
  latest_invoice?: string | null;
}

export interface StubCheckoutSession {
  id: string;
  subscription: string | null;
  customer: string | null;
  payment_status: "paid" | "unpaid" | "no_payment_required";
  status?: "open" | "complete" | "expired";
  created?: number;
  email?: string | null;
  name?: string | null;
  /** Custom field values by key (text fields). */
  custom_fields?: Record<string, string>;
  metadata?: Record<string, string>;
  line_items: StubItem[];
  success_url?: string;
  cancel_url?: string;
  /** Unix seconds; a day after `created` when unset (Stripe's default). */
  expires_at?: number | null;
}

export interface StubCustomer {
  id: string;
  email: string | null;
  name?: string | null;
  created?: number;
  /** Stripe still answers for a deleted customer, with only its id and `deleted: true`. */
  deleted?: boolean;
}

export interface StubInvoice {
  id: string;
  subscription: string;
  customer: string;
  status: "draft" | "open" | "paid" | "uncollectible" | "void";
  amount_due: number;
  created?: number;
  attempt_count?: number;
  billing_reason?: string;
  /** The PaymentIntent that pays it; listed by `GET /v1/invoice_payments`. */
  payment_intent?: string | null;
  /** Set when sent to the customer to pay by a date (otherwise charged automatically at finalization). */
  due_date?: number | null;
  /** When it was finalized and paid; `created` (and, if paid, `created`) by default. */
  status_transitions?: { finalized_at?: number | null; paid_at?: number | null };
}

export interface StubRefund {
  id: string;
  amount: number;
  created: number;
  status?: "pending" | "succeeded" | "failed" | "canceled";
  reason?: "duplicate" | "fraudulent" | "requested_by_customer" | null;
}

export interface StubCharge {
  id: string;
  customer: string | null;
  amount: number;
  payment_intent: string | null;
  created?: number;
  disputed?: boolean;
  refunds?: StubRefund[];
}

export interface StubDispute {
  id: string;
  charge: string;
  status: "warning_needs_response" | "warning_under_review" | "warning_closed" | "needs_response" | "under_review" | "won" | "lost" | "prevented";
  amount?: number;
  reason?: string;
  created?: number;
}

export interface StripeStub {
  /** Options for `new Stripe(apiKey, ...)`, and the same as a URL. */
  readonly clientOptions: { host: string; port: number; protocol: "http" };
  readonly url: string;
  readonly apiKey: string;
  products: Map<string, StubProduct>;
  prices: Map<string, StubPrice>;
  subscriptions: Map<string, StubSubscription>;
  sessions: Map<string, StubCheckoutSession>;
  customers: Map<string, StubCustomer>;
  invoices: Map<string, StubInvoice>;
  charges: Map<string, StubCharge>;
  disputes: Map<string, StubDispute>;
  /** Requests served so far, as `METHOD /path`. */
  readonly requests: string[];
  /**
   * The next `count` requests (all, if Infinity) fail with `status`. A 429 is Stripe's rate
   * limit answer: error code `rate_limit` and `Stripe-Should-Retry: true`, which the SDK obeys.
   */
  fail(count: number, status?: number): void;
  /** Subscription items (and Checkout line items) embedded before `has_more` (Stripe embeds a first page). */
  embeddedItemLimit: number;
  /** Open Checkout Sessions, the hosted page that pays them, and where their events go. */
  readonly checkout: HostedCheckout;
  close(): Promise<void>;
}

export async function startStripeStub(apiKey = "sk_test_stub"): Promise<StripeStub> {
  let failures = 0;
  let failureStatus = 500;
  const requests: string[] = [];
  const stub = {
    products: new Map<string, StubProduct>(),
    prices: new Map<string, StubPrice>(),
    subscriptions: new Map<string, StubSubscription>(),
    sessions: new Map<string, StubCheckoutSession>(),
    customers: new Map<string, StubCustomer>(),
    invoices: new Map<string, StubInvoice>(),
    charges: new Map<string, StubCharge>(),
    disputes: new Map<string, StubDispute>(),
    requests,
    embeddedItemLimit: 10,
    checkout: hostedCheckout(() => full),
    fail(count: number, status = 500) {
      failures = count;
      failureStatus = status;
    },
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://stub");
    requests.push(`${req.method} ${url.pathname}`);
    if (!url.pathname.startsWith("/v1/")) return stub.checkout.serve(req, res, url);
    if (req.headers.authorization !== `Bearer ${apiKey}`) return error(res, 401, "authentication_error", "Invalid API Key provided");
    if (failures > 0) {
      failures--;
      return injectedFailure(res, failureStatus);
    }
    if (serveWrites(full, req, res, url)) return;
    if (req.method !== "GET") return error(res, 405, "invalid_request_error", "stub: only GET is served");
    route(res, url);
  });

  function route(res: ServerResponse, url: URL) {
    const expand = [...url.searchParams.entries()].filter(([k]) => /^expand\[\d*\]$/.test(k)).map(([, v]) => v);
    const parts = url.pathname.split("/").filter(Boolean);
    if (parts[0] !== "v1") return error(res, 404, "invalid_request_error", "stub: unknown path");
    const [, collection, id, third, fourth] = parts;
    const param = (name: string) => url.searchParams.get(name);
    if (collection === "subscriptions" && id === undefined) return json(res, listSubscriptions(url));
    if (collection === "subscriptions" && id !== undefined) {
      const sub = stub.subscriptions.get(id);
      if (!sub) return missing(res, id);
      const latestInvoice = expand.includes("latest_invoice") && sub.latest_invoice != null ? stub.invoices.get(sub.latest_invoice) : undefined;
      return json(res, renderSubscription(stub, sub, { expandProduct: expand.includes("items.data.price.product"), embeddedItemLimit: stub.embeddedItemLimit, latestInvoice }));
    }
    if (collection === "subscription_items" && id === undefined) {
      const sub = stub.subscriptions.get(param("subscription") ?? "");
      if (!sub) return missing(res, param("subscription") ?? "");
      const all = sub.items.map((item, i) => renderItem(stub, sub, item, i, expand.includes("data.price.product")));
      return json(res, page(all, url, `/v1/subscription_items?subscription=${sub.id}`));
    }
    if (collection === "checkout" && id === "sessions") {
      if (third !== undefined && fourth === "line_items") {
        const session = stub.sessions.get(third);
        if (!session) return missing(res, third);
        return json(res, page(lineItems(session, expand.includes("data.price.product")), url, `/v1/checkout/sessions/${session.id}/line_items`));
      }
      if (third !== undefined) {
        const session = stub.sessions.get(third);
        return session ? json(res, sessionWithLines(session, expand)) : missing(res, third);
      }
      const wanted = param("subscription");
      const found = [...stub.sessions.values()].filter((s) => wanted === null || s.subscription === wanted);
      return json(res, list(found.map((s) => renderSession(s)), false, "/v1/checkout/sessions"));
    }
    if (collection === "customers" && id !== undefined) {
      const customer = stub.customers.get(id);
      return customer ? json(res, renderCustomer(customer)) : missing(res, id);
    }
    if (collection === "invoices" && id !== undefined) {
      const invoice = stub.invoices.get(id);
      return invoice ? json(res, renderInvoice(invoice)) : missing(res, id);
    }
    if (collection === "invoice_payments" && id === undefined) {
      // Filtered by the PaymentIntent that paid the invoice, as `payment[type]=payment_intent&payment[payment_intent]=pi_...`.
      const intent = param("payment[payment_intent]");
      const found = [...stub.invoices.values()].filter((i) => intent === null || i.payment_intent === intent);
      const rendered = found.map((i) => ({ ...renderInvoicePayment(i), ...(expand.includes("data.invoice") ? { invoice: renderInvoice(i) } : {}) }));
      return json(res, page(rendered, url, "/v1/invoice_payments"));
    }
    if (collection === "charges" && id !== undefined) {
      const charge = stub.charges.get(id);
      return charge ? json(res, renderCharge(charge, { expandRefunds: expand.includes("refunds") })) : missing(res, id);
    }
    if (collection === "disputes") {
      if (id !== undefined) {
        const dispute = stub.disputes.get(id);
        return dispute ? json(res, renderDispute(dispute, stub.charges.get(dispute.charge))) : missing(res, id);
      }
      const charge = param("charge");
      const found = [...stub.disputes.values()].filter((d) => charge === null || d.charge === charge);
      return json(res, page(found.map((d) => renderDispute(d, stub.charges.get(d.charge))), url, "/v1/disputes"));
    }
    if (collection === "refunds" && id === undefined) {
      const charge = param("charge");
      const found = [...stub.charges.values()].filter((c) => charge === null || c.id === charge).flatMap((c) => (c.refunds ?? []).map((r) => renderRefund(r, c.id)));
      return json(res, page(found, url, "/v1/refunds"));
    }
    return error(res, 404, "invalid_request_error", `stub: unknown path ${url.pathname}`);
  }

  function lineItems(s: StubCheckoutSession, withProduct: boolean) {
    return s.line_items.map((item, i) => renderLineItem(stub, s.id, item, i, withProduct));
  }

  // GET /v1/subscriptions: newest first like Stripe; without status=all, canceled ones are left out.
  function listSubscriptions(url: URL) {
    const status = url.searchParams.get("status");
    const all = [...stub.subscriptions.values()].reverse().filter((s) => (status === "all" ? true : status === null ? s.status !== "canceled" : s.status === status));
    const rendered = all.map((s) => renderSubscription(stub, s, { expandProduct: false, embeddedItemLimit: stub.embeddedItemLimit }));
    return page(rendered, url, "/v1/subscriptions");
  }

  function sessionWithLines(s: StubCheckoutSession, expand: string[]) {
    const body: Record<string, unknown> = renderSession(s);
    if (expand.includes("line_items")) {
      const items = lineItems(s, expand.includes("line_items.data.price.product"));
      body.line_items = list(items.slice(0, stub.embeddedItemLimit), items.length > stub.embeddedItemLimit, `/v1/checkout/sessions/${s.id}/line_items`);
    }
    return body;
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const full: StripeStub = Object.assign(stub, {
    clientOptions: { host: "127.0.0.1", port, protocol: "http" as const },
    url: `http://127.0.0.1:${port}`,
    apiKey,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  });
  return full;
}

/** One page of a list endpoint, by `limit` and `starting_after`, as Stripe pages. */
function page(all: { id: string }[], url: URL, listUrl: string) {
  const after = url.searchParams.get("starting_after");
  const start = after === null ? 0 : all.findIndex((i) => i.id === after) + 1;
  const limit = Math.min(100, Number(url.searchParams.get("limit") ?? "10")); // Stripe's own cap
  return list(all.slice(start, start + limit), start + limit < all.length, listUrl);
}

export function json(res: ServerResponse, body: unknown, status = 200, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "request-id": "req_stub", ...headers });
  res.end(text);
}

export function error(res: ServerResponse, status: number, type: string, message: string) {
  json(res, { error: { type, message, ...(status === 404 ? { code: "resource_missing" } : {}) } }, status);
}

function injectedFailure(res: ServerResponse, status: number) {
  if (status !== 429) return error(res, status, "api_error", "stub: injected failure");
  json(
    res,
    { error: { code: "rate_limit", doc_url: "https://stripe.com/docs/error-codes/rate-limit", message: "Request rate limit exceeded.", type: "invalid_request_error" } },
    429,
    { "stripe-should-retry": "true" },
  );
}

export function missing(res: ServerResponse, id: string) {
  error(res, 404, "invalid_request_error", `No such object: '${id}'`);
}

export { list };
