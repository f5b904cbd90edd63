// The stub's write endpoints, with the reads that go with them: what `catalog sync` and the
// storefront call. Products (`GET/POST /v1/products/:id`, `POST /v1/products`), prices
// (`GET /v1/prices` filtered by product, active or lookup_keys[]; `POST /v1/prices` with
// transfer_lookup_key; `POST /v1/prices/:id`), `POST /v1/checkout/sessions` and
// `POST /v1/billing_portal/sessions`. Bodies are form-encoded, as the SDK sends them.
import type { IncomingMessage, ServerResponse } from "node:http";
import { decodeStripeForm, list as formList, obj, str, strings, type FormValue } from "./form.ts";
import { stripeId } from "./orders.ts";
import { error, json, list, missing, type StripeStub, type StubPrice, type StubProduct } from "./stub.ts";

type Body = Record<string, FormValue>;
type Handler = (stub: StripeStub, res: ServerResponse, url: URL, body: Body, id: string | undefined) => void;

const ROUTES: Record<string, Handler> = {
  "GET products/:id": (stub, res, _url, _body, id) => {
    const product = stub.products.get(id ?? "");
    return product ? json(res, renderProduct(product)) : missing(res, id ?? "");
  },
  "POST products": (stub, res, _url, body) => {
    const id = str(body, "id") ?? stripeId("prod");
    const name = str(body, "name");
    if (name === undefined || name === "") return error(res, 400, "invalid_request_error", "Missing required param: name.");
    if (stub.products.has(id)) return error(res, 400, "invalid_request_error", `Product already exists: ${id}`);
    const product: StubProduct = { id, name, description: str(body, "description") ?? null, active: true, metadata: strings(body, "metadata") };
    stub.products.set(id, product);
    json(res, renderProduct(product));
  },
  "POST products/:id": (stub, res, _url, body, id) => {
    const product = stub.products.get(id ?? "");
    if (product === undefined) return missing(res, id ?? "");
    const name = str(body, "name");
    const description = str(body, "description");
    const active = str(body, "active");
    if (name !== undefined) product.name = name;
    if (description !== undefined) product.description = description === "" ? null : description;
    if (active !== undefined) product.active = active === "true";
    json(res, renderProduct(product));
  },
  "GET prices": (stub, res, url) => {
    const keys = [...url.searchParams.entries()].filter(([k]) => /^lookup_keys\[\d*\]$/.test(k)).map(([, v]) => v);
    const product = url.searchParams.get("product");
    const active = url.searchParams.get("active");
    const all = [...stub.prices.values()]
      .filter((p) => (keys.length === 0 || (p.lookup_key != null && keys.includes(p.lookup_key))) && (product === null || p.product === product))
      .filter((p) => active === null || String(p.active ?? true) === active)
      .map(renderPrice);
    const after = url.searchParams.get("starting_after");
    const start = after === null ? 0 : all.findIndex((p) => p.id === after) + 1;
    const limit = Number(url.searchParams.get("limit") ?? "10");
    json(res, list(all.slice(start, start + limit), start + limit < all.length));
  },
  "POST prices": (stub, res, _url, body) => {
    const product = str(body, "product") ?? "";
    if (!stub.products.has(product)) return missing(res, product);
    const amount = Number(str(body, "unit_amount"));
    const currency = str(body, "currency");
    if (!Number.isInteger(amount) || amount < 0 || currency === undefined) return error(res, 400, "invalid_request_error", "unit_amount and currency are required");
    const lookupKey = str(body, "lookup_key") ?? null;
    const holder = lookupKey === null ? undefined : [...stub.prices.values()].find((p) => p.lookup_key === lookupKey);
    if (holder !== undefined) {
      if (str(body, "transfer_lookup_key") !== "true") {
        return error(res, 400, "invalid_request_error", `A price (\`${holder.id}\`) already uses that lookup key.`);
      }
      holder.lookup_key = null;
    }
    const interval = str(obj(body, "recurring"), "interval");
    const price: StubPrice = {
      id: stripeId("price"),
      product,
      lookup_key: lookupKey,
      currency,
      unit_amount: amount,
      active: true,
      type: interval === undefined ? "one_time" : "recurring",
      ...(interval === "day" || interval === "week" || interval === "month" || interval === "year" ? { interval } : {}),
    };
    stub.prices.set(price.id, price);
    json(res, renderPrice(price));
  },
  "POST prices/:id": (stub, res, _url, body, id) => {
    const price = stub.prices.get(id ?? "");
    if (price === undefined) return missing(res, id ?? "");
    const active = str(body, "active");
    if (active !== undefined) price.active = active === "true";
    json(res, renderPrice(price));
  },
  "POST checkout/sessions": (stub, res, _url, body) => {
    if (str(body, "mode") !== "subscription") return error(res, 400, "invalid_request_error", "stub: only mode=subscription is served");
    const successUrl = str(body, "success_url");
    const cancelUrl = str(body, "cancel_url");
    if (successUrl === undefined || cancelUrl === undefined) return error(res, 400, "invalid_request_error", "success_url and cancel_url are required");
    const lineItems: { price: string; quantity: number }[] = [];
    for (const line of formList(body, "line_items")) {
      const price = str(line, "price") ?? "";
      const quantity = Number(str(line, "quantity") ?? "1");
      if (!stub.prices.has(price)) return error(res, 400, "invalid_request_error", `No such price: '${price}'`);
      if (!Number.isInteger(quantity) || quantity < 1) return error(res, 400, "invalid_request_error", "line_items[].quantity must be a positive integer");
      lineItems.push({ price, quantity });
    }
    if (!lineItems.some((l) => stub.prices.get(l.price)?.type !== "one_time")) {
      return error(res, 400, "invalid_request_error", "You must specify at least one recurring price in `subscription` mode.");
    }
    const session = stub.checkout.open({
      lineItems,
      metadata: strings(body, "metadata"),
      subscriptionMetadata: strings(obj(body, "subscription_data"), "metadata"),
      successUrl,
      cancelUrl,
    });
    json(res, stub.checkout.render(session));
  },
  "POST billing_portal/sessions": (stub, res, _url, body) => {
    const customer = str(body, "customer") ?? "";
    if (!stub.customers.has(customer)) return missing(res, customer);
    const id = stripeId("bps");
    const returnUrl = str(body, "return_url") ?? null;
    stub.checkout.portals.set(id, { customer, returnUrl });
    json(res, { id, object: "billing_portal.session", customer, livemode: false, return_url: returnUrl, url: `${stub.url}/portal/${id}` });
  },
};

/** Serves the request if it is one of these endpoints; false leaves it to the stub's reads. */
export function serveWrites(stub: StripeStub, req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const parts = url.pathname.split("/").filter(Boolean).slice(1);
  const [collection, second, third] = parts;
  // `checkout/sessions` and `billing_portal/sessions` are two-part collections without ids here.
  const nested = collection === "checkout" || collection === "billing_portal";
  const resource = nested ? `${collection}/${second}` : collection;
  const id = nested ? third : second;
  const handler = ROUTES[`${req.method} ${resource}${id === undefined ? "" : "/:id"}`];
  if (handler === undefined) return false;
  let text = "";
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => (text += chunk));
  req.on("end", () => handler(stub, res, url, decodeStripeForm(text), id));
  return true;
}

function renderProduct(p: StubProduct) {
  return { id: p.id, object: "product", name: p.name ?? p.id, description: p.description ?? null, active: p.active ?? true, metadata: p.metadata ?? {}, livemode: false };
}

function renderPrice(p: StubPrice) {
  const recurring = (p.type ?? "recurring") === "recurring";
  return {
    id: p.id,
    object: "price",
    active: p.active ?? true,
    currency: p.currency ?? "usd",
    unit_amount: p.unit_amount ?? null,
    lookup_key: p.lookup_key ?? null,
    product: p.product,
    type: recurring ? "recurring" : "one_time",
    recurring: recurring ? { interval: p.interval ?? "month", interval_count: 1, usage_type: "licensed" } : null,
    livemode: false,
  };
}
