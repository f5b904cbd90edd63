// A small stateful stand-in for the Stripe API, for tests. The real stripe SDK talks to it via
// its host/port/protocol options. It serves the reads the webhook makes: subscriptions (with
// items, prices, lookup keys, product metadata, quantities), subscription items, Checkout
// Sessions (with line items and custom fields), customers. Tests change its state directly.
// The writes a shop makes (products, prices, Checkout and Customer Portal sessions) and the
// hosted Checkout page a browser pays on are in write-api.ts and hosted-checkout.ts.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostedCheckout, type HostedCheckout } from "./hosted-checkout.ts";
import { serveWrites } from "./write-api.ts";

export interface StubProduct {
  id: string;
  metadata?: Record<string, string>;
  name?: string;
  description?: string | null;
  active?: boolean;
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
  canceled_at?: number | null;
  ended_at?: number | null;
}

export interface StubCheckoutSession {
  id: string;
  subscription: string | null;
  customer: string;
  payment_status: "paid" | "unpaid" | "no_payment_required";
  email?: string | null;
  name?: string | null;
  /** Custom field values by key (text fields). */
  custom_fields?: Record<string, string>;
  metadata?: Record<string, string>;
  line_items: StubItem[];
}

export interface StubCustomer {
  id: string;
  email: string | null;
  name?: string | null;
  /** Stripe still answers for a deleted customer, with only its id and `deleted: true`. */
  deleted?: boolean;
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
  /** Requests served so far, as `METHOD /path`. */
  readonly requests: string[];
  /** The next `count` requests (all, if Infinity) fail with `status`. */
  fail(count: number, status?: number): void;
  /** Subscription items embedded in a subscription before `has_more` (Stripe embeds a first page). */
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
      return error(res, failureStatus, "api_error", "stub: injected failure");
    }
    if (serveWrites(full, req, res, url)) return;
    if (req.method !== "GET") return error(res, 405, "invalid_request_error", "stub: only GET is served");
    route(req, res, url);
  });

  function route(_req: IncomingMessage, res: ServerResponse, url: URL) {
    const expand = [...url.searchParams.entries()].filter(([k]) => /^expand\[\d*\]$/.test(k)).map(([, v]) => v);
    const parts = url.pathname.split("/").filter(Boolean);
    if (parts[0] !== "v1") return error(res, 404, "invalid_request_error", "stub: unknown path");
    const [, collection, id, third] = parts;
    if (collection === "subscriptions" && id !== undefined) {
      const sub = stub.subscriptions.get(id);
      return sub ? json(res, renderSubscription(sub, expand.includes("items.data.price.product"))) : missing(res, id);
    }
    if (collection === "subscription_items" && id === undefined) {
      const sub = stub.subscriptions.get(url.searchParams.get("subscription") ?? "");
      if (!sub) return missing(res, url.searchParams.get("subscription") ?? "");
      const all = sub.items.map((item, i) => renderItem(sub.id, item, i, expand.includes("data.price.product")));
      const after = url.searchParams.get("starting_after");
      const start = after === null ? 0 : all.findIndex((i) => i.id === after) + 1;
      const limit = Number(url.searchParams.get("limit") ?? "10");
      return json(res, list(all.slice(start, start + limit), start + limit < all.length));
    }
    if (collection === "checkout" && id === "sessions") {
      if (third !== undefined) {
        const session = stub.sessions.get(third);
        return session ? json(res, renderSession(session, expand)) : missing(res, third);
      }
      const wanted = url.searchParams.get("subscription");
      const found = [...stub.sessions.values()].filter((s) => wanted === null || s.subscription === wanted);
      return json(res, list(found.map((s) => renderSession(s, [])), false));
    }
    if (collection === "customers" && id !== undefined) {
      const customer = stub.customers.get(id);
      if (customer?.deleted === true) return json(res, { id: customer.id, object: "customer", deleted: true });
      return customer ? json(res, { object: "customer", name: null, ...customer }) : missing(res, id);
    }
    return error(res, 404, "invalid_request_error", `stub: unknown path ${url.pathname}`);
  }

  function renderPrice(priceId: string, expandProduct: boolean) {
    const price = stub.prices.get(priceId);
    if (price === undefined) throw new Error(`stub: unknown price ${priceId}`);
    const product = stub.products.get(price.product) ?? { id: price.product, metadata: {} };
    return {
      id: price.id,
      object: "price",
      lookup_key: price.lookup_key ?? null,
      type: price.type ?? "recurring",
      product: expandProduct ? { id: product.id, object: "product", metadata: product.metadata ?? {} } : product.id,
    };
  }

  function renderItem(subId: string, item: StubItem, index: number, expandProduct: boolean) {
    return { id: `si_${subId.slice(4)}${index}`, object: "subscription_item", quantity: item.quantity ?? 1, price: renderPrice(item.price, expandProduct) };
  }

  function renderSubscription(sub: StubSubscription, expandProduct: boolean) {
    const items = sub.items.map((item, i) => renderItem(sub.id, item, i, expandProduct));
    return {
      id: sub.id,
      object: "subscription",
      status: sub.status,
      customer: sub.customer,
      metadata: sub.metadata ?? {},
      canceled_at: sub.canceled_at ?? null,
      ended_at: sub.ended_at ?? null,
      items: list(items.slice(0, stub.embeddedItemLimit), items.length > stub.embeddedItemLimit),
    };
  }

  function renderSession(s: StubCheckoutSession, expand: string[]) {
    const body: Record<string, unknown> = {
      id: s.id,
      object: "checkout.session",
      mode: "subscription",
      status: "complete",
      payment_status: s.payment_status,
      subscription: s.subscription,
      customer: s.customer,
      customer_details: { email: s.email ?? null, name: s.name ?? null },
      custom_fields: Object.entries(s.custom_fields ?? {}).map(([key, value]) => ({ key, type: "text", label: { type: "custom", custom: key }, text: { value } })),
      metadata: s.metadata ?? {},
    };
    if (expand.includes("line_items")) {
      const withProduct = expand.includes("line_items.data.price.product");
      body.line_items = list(
        s.line_items.map((item, i) => ({ id: `li_${s.id.slice(3)}${i}`, object: "item", quantity: item.quantity ?? 1, price: renderPrice(item.price, withProduct) })),
        false,
      );
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

export function list(data: unknown[], hasMore: boolean) {
  return { object: "list", data, has_more: hasMore, url: "/v1/stub" };
}

export function json(res: ServerResponse, body: unknown, status = 200) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "request-id": "req_stub" });
  res.end(text);
}

export function error(res: ServerResponse, status: number, type: string, message: string) {
  json(res, { error: { type, message, ...(status === 404 ? { code: "resource_missing" } : {}) } }, status);
}

export function missing(res: ServerResponse, id: string) {
  error(res, 404, "invalid_request_error", `No such object: '${id}'`);
}
