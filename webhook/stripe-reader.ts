// Thin adapter over the stripe SDK: reads the current subscription, checkout session and
// customer, and hands back zod-validated views. Processing never trusts event payloads.
import Stripe from "stripe";
import {
  LineItemList,
  StripeCheckoutSession,
  StripeCustomer,
  StripeSubscription,
  SubscriptionItemList,
  checkoutView,
  subscriptionView,
  type CheckoutView,
  type SubscriptionView,
} from "./stripe-objects.ts";

export interface StripeReader {
  subscription(id: string): Promise<SubscriptionView>;
  checkoutSession(id: string): Promise<CheckoutView>;
  /** The Checkout Session that created the subscription, if it was created by Checkout. */
  checkoutSessionOf(subscriptionId: string): Promise<CheckoutView | null>;
  customer(id: string): Promise<{ email: string | null; name: string | null } | null>;
}

/** Retrying cannot help: the object does not exist (or is not ours). The event is dead-lettered at once. */
export class PermanentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PermanentError";
  }
}

export interface StripeClientOptions {
  apiKey: string;
  /** e.g. http://127.0.0.1:12111 for a local stub; Stripe's API when unset. */
  apiBase?: URL | undefined;
  timeoutMs?: number;
  /** e.g. rateLimitedHttpClient(Stripe.createNodeHttpClient(), ...); the SDK's own when unset. */
  httpClient?: Stripe.StripeConfig["httpClient"];
}

export function createStripeClient({ apiKey, apiBase, timeoutMs = 20_000, httpClient }: StripeClientOptions): Stripe {
  const endpoint: Stripe.StripeConfig = {};
  if (apiBase !== undefined) {
    endpoint.host = apiBase.hostname;
    endpoint.protocol = apiBase.protocol === "http:" ? "http" : "https";
    if (apiBase.port !== "") endpoint.port = Number(apiBase.port);
  }
  if (httpClient !== undefined) endpoint.httpClient = httpClient;
  return new Stripe(apiKey, { maxNetworkRetries: 2, timeout: timeoutMs, telemetry: false, ...endpoint });
}

const SUBSCRIPTION_EXPAND = ["items.data.price.product", "latest_invoice"];
const LINE_ITEM_EXPAND = ["line_items", "line_items.data.price.product"];

export function stripeReader(stripe: Stripe): StripeReader {
  return {
    async subscription(id) {
      const raw = StripeSubscription.parse(await call(() => stripe.subscriptions.retrieve(id, { expand: SUBSCRIPTION_EXPAND })));
      if (raw.items.has_more !== true) return subscriptionView(raw);
      // More items than Stripe embeds: page through them all.
      const items = await allPages(async (startingAfter) => {
        const page = await call(() =>
          stripe.subscriptionItems.list({ subscription: id, limit: 100, expand: ["data.price.product"], ...(startingAfter ? { starting_after: startingAfter } : {}) }),
        );
        return { ...SubscriptionItemList.parse(page), lastId: page.data.at(-1)?.id };
      });
      return subscriptionView(raw, items);
    },
    async checkoutSession(id) {
      const raw = StripeCheckoutSession.parse(await call(() => stripe.checkout.sessions.retrieve(id, { expand: LINE_ITEM_EXPAND })));
      if (raw.line_items?.has_more !== true) return checkoutView(raw);
      // More line items than Stripe embeds: a one-time theme may be on a later page.
      const lines = await allPages(async (startingAfter) => {
        const page = await call(() =>
          stripe.checkout.sessions.listLineItems(id, { limit: 100, expand: ["data.price.product"], ...(startingAfter ? { starting_after: startingAfter } : {}) }),
        );
        return { ...LineItemList.parse(page), lastId: page.data.at(-1)?.id };
      });
      return checkoutView(raw, lines);
    },
    async checkoutSessionOf(subscriptionId) {
      const list = await call(() => stripe.checkout.sessions.list({ subscription: subscriptionId, limit: 1 }));
      const first = list.data[0];
      return first === undefined ? null : this.checkoutSession(first.id);
    },
    async customer(id) {
      const raw = StripeCustomer.parse(await call(() => stripe.customers.retrieve(id)));
      return raw.deleted === true ? null : { email: raw.email ?? null, name: raw.name ?? null };
    },
  };
}

interface Page<T> {
  data: T[];
  has_more?: boolean | undefined;
  /** The id of the page's last object, where the next page starts. */
  lastId: string | undefined;
}

/** Follows `has_more` with `starting_after` until the last page. */
async function allPages<T>(fetchPage: (startingAfter: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const all: T[] = [];
  let startingAfter: string | undefined;
  for (;;) {
    const page = await fetchPage(startingAfter);
    all.push(...page.data);
    startingAfter = page.lastId;
    if (page.has_more !== true || startingAfter === undefined) return all;
  }
}

/** Runs one SDK call; a 404 (no such object) becomes a PermanentError, everything else is retried later. */
export async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError && error.statusCode === 404) {
      throw new PermanentError(`stripe: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
