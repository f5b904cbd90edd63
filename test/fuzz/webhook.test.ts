// Fuzzes POST /stripe/webhook through fastify's inject, wired as the webhook tests wire it (real
// PostgreSQL, the Stripe stub, the inbox worker running): random bodies and headers, broken
// and stale signatures, and validly signed events of every shape. Nothing may answer 5xx for
// bad input, every refusal is a 4xx JSON error, validly signed well-formed events get a 2xx,
// and nothing that is not validly signed ever reaches the inbox.
import * as fc from "fast-check";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebhookService } from "../../webhook/service.ts";
import { EventEnvelope, routeEvent } from "../../webhook/stripe-objects.ts";
import { checkoutEvent, invoiceEvent, signedDelivery, stripeEvent, subscriptionEvent } from "../harness/stripe/events.ts";
import { seedOrder } from "../harness/stripe/orders.ts";
import { startStripeStub, type StripeStub } from "../harness/stripe/stub.ts";
import { OLD_SECRET, SECRET, deliver, startTestPostgres, startTestWebhook, type FakeApplier, type TestPostgres } from "../webhook/support.ts";
import { fuzz, timeLimit, withinTime } from "./budget.ts";
import type { Json, JsonObject } from "./manifest-arbitraries.ts";
import { applyMutation, hostileValue, mutation } from "./mutate.ts";

const FILE = import.meta.filename;
const BODY_LIMIT = 64 * 1024;
const RUN_LIMIT_MS = 5_000;
const TOLERANCE_S = 300;

let postgres: TestPostgres | undefined;
let stub: StripeStub | undefined;
let service: (WebhookService & { applier: FakeApplier }) | undefined;
/** Events as the harness builds them from seeded orders: the bases of the mutations. */
const realEvents: JsonObject[] = [];

beforeAll(async () => {
  [postgres, stub] = await Promise.all([startTestPostgres(), startStripeStub()]);
  service = await startTestWebhook(await postgres.freshDatabase(), stub, { config: { webhookSecrets: [SECRET, OLD_SECRET], bodyLimit: BODY_LIMIT } });
  const { subscription, session } = seedOrder(stub, { items: { business_monthly: 1 } });
  for (const event of [
    checkoutEvent(stub, "checkout.session.completed", session.id),
    subscriptionEvent(stub, "customer.subscription.updated", subscription.id),
    subscriptionEvent(stub, "customer.subscription.deleted", subscription.id),
    invoiceEvent("invoice.paid", subscription.id),
    invoiceEvent("invoice.payment_failed", subscription.id),
    stripeEvent("charge.refunded", { id: "ch_1", object: "charge" }),
  ]) {
    realEvents.push(JSON.parse(JSON.stringify(event)) as JsonObject);
  }
});

afterAll(async () => {
  await service?.stop();
  await Promise.all([postgres?.stop(), stub?.close()]);
});

function running(): WebhookService {
  if (service === undefined) throw new Error("the webhook did not start");
  return service;
}

async function storedStripeEvents(): Promise<number> {
  const r = await running().pool.query<{ n: number }>("SELECT count(*)::int AS n FROM stripe_events WHERE kind = 'stripe'");
  return r.rows[0]?.n ?? -1;
}

async function isStored(id: string): Promise<boolean> {
  const r = await running().pool.query("SELECT 1 FROM stripe_events WHERE id = $1", [id]);
  return r.rowCount === 1;
}

interface Response {
  status: number;
  body: unknown;
  contentType: string;
}

async function post(payload: Buffer, headers: Record<string, string | string[]>): Promise<Response> {
  const r = await withinTime("POST /stripe/webhook", RUN_LIMIT_MS, () => running().app.inject({ method: "POST", url: "/stripe/webhook", headers, payload }));
  let body: unknown;
  try {
    body = JSON.parse(r.body);
  } catch {
    body = r.body;
  }
  return { status: r.statusCode, body, contentType: String(r.headers["content-type"] ?? "") };
}

const OUR_ERRORS = /^(signature verification failed: (missing|malformed|mismatch|stale)|content type must be application\/json|not a Stripe event|event cannot be stored: .+)/;

/** A refusal: 4xx, JSON, and an error that says what was wrong (ours, or fastify's own for framing problems). */
function expectClearRefusal(r: Response): void {
  expect(r.status, `status ${r.status}: ${JSON.stringify(r.body)}`).toBeGreaterThanOrEqual(400);
  expect(r.status).toBeLessThan(500);
  expect(r.contentType).toMatch(/^application\/json/);
  const body = r.body as { error?: unknown; code?: unknown; message?: unknown };
  expect(typeof body.error).toBe("string");
  if (typeof body.code === "string" && body.code.startsWith("FST_")) expect(String(body.message).trim()).not.toBe("");
  else expect(body.error).toMatch(OUR_ERRORS);
}

const now = () => Math.floor(Date.now() / 1000);

/** PostgreSQL's text and jsonb hold no NUL and no lone surrogate, in values or keys. */
function hasUnstorableText(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === "string") {
      if (value.includes("\u0000") || !value.isWellFormed()) return true;
    } else if (Array.isArray(value)) for (const v of value as unknown[]) stack.push(v);
    else if (typeof value === "object" && value !== null) for (const [k, v] of Object.entries(value)) stack.push(k, v);
  }
  return false;
}

/** Well inside timestamptz's range (4713 BC to 294276 AD): certainly storable. */
const SURELY_STORABLE_SECONDS = 200_000_000_000;

/** The v1 signature alone, as Stripe computes it. */
function v1(payload: string, secret: string, timestamp: number): string {
  const header = Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
  return header.split(",").find((p) => p.startsWith("v1=")) ?? "";
}

/** Mostly JSON (so most requests reach the signature check), sometimes anything else. */
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/json;charset=UTF-8") },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      undefined,
      "application/json; charset=latin1",
      "application/jsonx",
      "application/json-patch+json",
      "application/vnd.api+json",
      "text/plain",
      "text/json",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/octet-stream",
      "",
      ";",
      "application/json; boundary=\u0000",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

/** A body that prints short in a counterexample (a 64 KiB one would fill the screen). */
function shown(bytes: Buffer): Buffer {
  const text = bytes.toString("utf8");
  const label = text.length > 200 ? `<${bytes.length} bytes: ${JSON.stringify(text.slice(0, 120))}...>` : `Buffer.from(${JSON.stringify(text)})`;
  return Object.assign(bytes, { [fc.toStringMethod]: () => label });
}

/** Bodies: bytes, JSON of any shape, real events (mutated or not), and one past the size limit. */
const body = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
  (fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>).map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
  fc
    .record({ index: fc.nat(), mutations: fc.array(mutation, { maxLength: 2 }), truncate: fc.option(fc.nat(), { nil: undefined }) })
    .map(({ index, mutations, truncate }) => {
      let event: Json = structuredClone(realEvents[index % realEvents.length] as JsonObject);
      for (const m of mutations) event = applyMutation(event, m).root;
      const text = JSON.stringify(event) ?? "null";
      return Buffer.from(truncate === undefined ? text : text.slice(0, truncate % (text.length + 1)));
    }),
  fc.constantFrom(Buffer.alloc(0), Buffer.from("{}"), Buffer.from("x".repeat(BODY_LIMIT + 1))),
).map(shown);

/** Framing headers a proxy or a broken client may add. */
const extraHeaders = fc.record(
  {
    "content-length": fc.oneof(fc.constantFrom("0", "1", "-1", "abc", "99999999999", ""), fc.nat().map(String)),
    "content-encoding": fc.constantFrom("gzip", "br", "identity", "deflate, gzip", "x"),
    "transfer-encoding": fc.constantFrom("chunked", "gzip, chunked", "identity"),
    expect: fc.constant("100-continue"),
  },
  { requiredKeys: [] },
);

type BadSignature =
  | { kind: "missing" }
  | { kind: "text"; value: string }
  | { kind: "wrongSecret" }
  | { kind: "otherBody" }
  | { kind: "stale"; age: number }
  | { kind: "wrongScheme" }
  | { kind: "noTimestamp" }
  | { kind: "duplicated" };

const badSignature: fc.Arbitrary<BadSignature> = fc.oneof(
  fc.constant({ kind: "missing" as const }),
  fc.record({
    kind: fc.constant("text" as const),
    value: fc.oneof(
      fc.constantFrom("", " ", "nonsense", "t=", "v1=", "t=1,v1=", "t=abc,v1=abc", ",,,", "t=1,t=2,v1=x", `t=${"9".repeat(400)},v1=00`, "t=-1,v1=ab"),
      fc.string({ maxLength: 80 }),
      fc.stringMatching(/^t=\d{1,12},v1=[0-9a-f]{64}(,v0=[0-9a-f]{64})?$/),
    ),
  }),
  fc.constant({ kind: "wrongSecret" as const }),
  fc.constant({ kind: "otherBody" as const }),
  fc.record({ kind: fc.constant("stale" as const), age: fc.integer({ min: TOLERANCE_S + 5, max: 1_000_000_000 }) }),
  fc.constant({ kind: "wrongScheme" as const }),
  fc.constant({ kind: "noTimestamp" as const }),
  fc.constant({ kind: "duplicated" as const }),
);

function signatureHeader(payload: Buffer, bad: BadSignature): string | string[] | undefined {
  const text = payload.toString("utf8");
  const t = now();
  switch (bad.kind) {
    case "missing":
      return undefined;
    case "text":
      return bad.value;
    case "wrongSecret":
      return `t=${t},${v1(text, "whsec_somebodyElse", t)}`;
    case "otherBody":
      return `t=${t},${v1(`${text} `, SECRET, t)}`;
    case "stale":
      return `t=${t - bad.age},${v1(text, SECRET, t - bad.age)}`;
    case "wrongScheme":
      return `t=${t},${v1(text, SECRET, t).replace(/^v1=/, "v0=")}`;
    case "noTimestamp":
      return v1(text, SECRET, t);
    case "duplicated":
      // Two headers (as an array): a proxy or client that repeats it; neither is honoured alone.
      return [`t=${t},${v1(text, "whsec_somebodyElse", t)}`, "nonsense"];
  }
}

describe("fuzz: POST /stripe/webhook", () => {
  const unsigned = "refuses whatever is not validly signed with a 4xx JSON error and stores nothing";
  it(
    unsigned,
    async () => {
      await fuzz(
        unsigned,
        FILE,
        250,
        fc.asyncProperty(body, contentType, badSignature, fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: extraHeaders }), async (payload, type, bad, extra) => {
          const headers: Record<string, string | string[]> = { ...extra };
          if (type !== undefined) headers["content-type"] = type;
          const signature = signatureHeader(payload, bad);
          if (signature !== undefined) headers["stripe-signature"] = signature;
          const before = await storedStripeEvents();
          const r = await post(payload, headers);
          expectClearRefusal(r);
          // Too big is refused before anything reads it (an unknown content type may be refused first).
          if (payload.length > BODY_LIMIT) expect([413, 415]).toContain(r.status);
          expect(await storedStripeEvents(), "an event that is not validly signed was stored").toBe(before);
        }),
      );
    },
    timeLimit(unsigned, 250),
  );

  const signed = "answers every validly signed event: 2xx when it is a Stripe event, a 4xx JSON error otherwise, never 5xx";
  it(
    signed,
    async () => {
      const id = fc.oneof(
        fc.stringMatching(/^evt_[A-Za-z0-9_]{1,40}$/),
        hostileValue,
        fc.constant(undefined),
      );
      const randomEvent = fc
        .record(
          {
            id,
            object: fc.constantFrom("event", "v2.core.event", "list", 7),
            type: fc.oneof(
              fc.constantFrom(
                "checkout.session.completed",
                "checkout.session.async_payment_succeeded",
                "customer.subscription.created",
                "customer.subscription.paused",
                "invoice.paid",
                "invoice.payment_failed",
                "charge.refunded",
                "",
                "x".repeat(256),
              ),
              hostileValue,
            ),
            created: fc.oneof(fc.constant(now()), fc.constantFrom(0, -1, 1.5, 2 ** 31, 2 ** 53 - 1, -(2 ** 53) + 1, 1e15, 253402300800, -62135596801), hostileValue),
            livemode: fc.oneof(fc.boolean(), hostileValue),
            data: fc.oneof(
              fc.record({ object: fc.oneof(fc.constantFrom(...realEvents.map((e) => (e.data as JsonObject).object as Json)), fc.dictionary(fc.string(), hostileValue, { maxKeys: 4 })) }),
              hostileValue,
            ),
          },
          { requiredKeys: [] },
        )
        .map((e) => JSON.parse(JSON.stringify(e)) as Json);
      const mutatedReal = fc
        .record({ index: fc.nat(), mutations: fc.array(mutation, { maxLength: 3 }), freshId: fc.boolean(), seq: fc.nat() })
        .map(({ index, mutations, freshId, seq }) => {
          const copy = structuredClone(realEvents[index % realEvents.length] as JsonObject);
          if (freshId) copy.id = `evt_fuzz${seq}`;
          let event: Json = copy;
          for (const m of mutations) event = applyMutation(event, m).root;
          return event;
        });
      // One edit at the edges of what the envelope allows and PostgreSQL stores, on a real event.
      const edge = fc
        .record({
          index: fc.nat(),
          seq: fc.nat(),
          created: fc.option(fc.constantFrom(0, -1, 2 ** 31, 2 ** 53 - 1, -(2 ** 53) + 1, 1e15, -1e15, 253402300800, -62135596801, -210866803201), { nil: undefined }),
          field: fc.option(
            fc.record({
              key: fc.constantFrom("note", "metadata", "a\u0000", "\ud800", "description"),
              value: fc.constantFrom<Json>("a\u0000b", "\ud800", "\udc00x", "\ud83d\ude00", "\\u0000", { k: "\u0000" }, ["x", "\ud800"], "x".repeat(300)),
            }),
            { nil: undefined },
          ),
        })
        .map(({ index, seq, created, field }) => {
          const event = structuredClone(realEvents[index % realEvents.length] as JsonObject);
          event.id = `evt_edge${seq}`;
          if (created !== undefined) event.created = created;
          if (field !== undefined) ((event.data as JsonObject).object as JsonObject)[field.key] = field.value;
          return event;
        });
      const secrets = fc.constantFrom<string | string[]>(SECRET, OLD_SECRET, [OLD_SECRET, SECRET], ["whsec_somebodyElse", SECRET]);
      // Within the tolerance, behind or ahead of our clock (further either way is refused as stale).
      const age = fc.integer({ min: -(TOLERANCE_S - 60), max: TOLERANCE_S - 60 });
      await fuzz(
        signed,
        FILE,
        300,
        fc.asyncProperty(fc.oneof(mutatedReal, randomEvent, edge), secrets, age, fc.constantFrom("application/json", "application/json; charset=utf-8"), async (event, secret, ageS, type) => {
          const text = JSON.stringify(event) ?? "null";
          const delivery = signedDelivery(text, secret, { timestamp: now() - ageS });
          const payload = Buffer.from(delivery.payload, "utf8");
          const before = await storedStripeEvents();
          const r = await post(payload, { ...delivery.headers, "content-type": type });
          expect(r.status, `status ${r.status}: ${JSON.stringify(r.body)}`).toBeLessThan(500);
          if (payload.length > BODY_LIMIT) {
            expect(r.status).toBe(413);
            return;
          }
          const envelope = EventEnvelope.safeParse(JSON.parse(text));
          if (!envelope.success || (event as JsonObject).object === "v2.core.event") {
            expectClearRefusal(r);
            expect(await storedStripeEvents()).toBe(before);
            return;
          }
          // A validly signed Stripe event is acknowledged, and stored when the webhook acts on it.
          const route = routeEvent(envelope.data);
          if (!route.handled) {
            expect(r.status, `status ${r.status}: ${JSON.stringify(r.body)}`).toBe(200);
            expect(await storedStripeEvents()).toBe(before);
            return;
          }
          // Values PostgreSQL cannot hold can never be stored: a 400 that says so, not a 503 for Stripe to retry for days.
          const unstorable = hasUnstorableText(JSON.parse(text));
          const storable = !unstorable && Math.abs(envelope.data.created) < SURELY_STORABLE_SECONDS;
          if (r.status === 400 && !storable) {
            expect(r.body).toMatchObject({ error: expect.stringMatching(/^event cannot be stored: /) as string });
            expect(await storedStripeEvents()).toBe(before);
            return;
          }
          expect(unstorable, "an event with a NUL or a lone surrogate cannot have been stored").toBe(false);
          expect(r.status, `status ${r.status}: ${JSON.stringify(r.body)}`).toBe(200);
          expect(r.body).toMatchObject({ received: true });
          expect(await isStored(envelope.data.id), "a handled event is in the inbox").toBe(true);
        }),
      );
    },
    timeLimit(signed, 300),
  );

  it("still serves and stores after the fuzzing", async () => {
    const s = running();
    expect((await s.app.inject({ url: "/healthz" })).statusCode).toBe(200);
    const { subscription } = seedOrder(stub as StripeStub, { items: { community_monthly: 1 } });
    expect(await deliver(s, subscriptionEvent(stub as StripeStub, "customer.subscription.created", subscription.id))).toBe(200);
  });
});
