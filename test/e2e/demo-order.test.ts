// End to end, the demo kit: signed Stripe events from the stub through the real webhook (embedded
// PostgreSQL, the relay with client-node) to the fake API server, and the controller against the
// simulated Aegir behind SSH. A demo order becomes a Ready HostedSpace in the shared site; the
// upgrade to Business a Ready HostedSite, while the space is kept open past the demo's end until
// that site is Ready and archived after; payment trouble suspends a space as it does a site, parked
// or not. Every event is delivered twice, and nothing is created twice.
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION } from "../../crds/group.ts";
import { PAYMENT_STATUS_ANNOTATION, SUBSCRIPTION_LABEL, siteName } from "../../webhook/hostedsite-manifest.ts";
import { DEMO_ENDS_ANNOTATION } from "../../webhook/hostedspace-manifest.ts";
import { kubeApplier } from "../../webhook/kube-applier.ts";
import type { WebhookService } from "../../webhook/service.ts";
import { userByMail } from "../harness/aegir/drupal.ts";
import { OG_ADMINISTRATOR_ROLE, type SpaceNode, spaceByMachine } from "../harness/aegir/spaces.ts";
import type { KubeObject } from "../harness/kube/index.ts";
import { checkoutEvent, invoiceEvent, subscriptionEvent, type StripeEvent } from "../harness/stripe/events.ts";
import { ensurePrice, seedOrder, setLatestInvoice, type SeededOrder } from "../harness/stripe/orders.ts";
import { startStripeStub, type StripeStub } from "../harness/stripe/stub.ts";
import { WebhookClock } from "../webhook/fake-clock.ts";
import { deliver, order, startTestPostgres, startTestWebhook, type TestPostgres } from "../webhook/support.ts";
import { Stack, eventually } from "./stack.ts";

const SHARED = "demo.sites.openatria.com";
const MINUTE = 60_000;
const DAY = 1_440 * MINUTE;
const GRACE = 7 * DAY;
/** The demo order's clock: its 30 days end this long after the test starts, so (a) runs before the end and (b) waits past it. */
const LEAD_MS = 30_000;

type Condition = { type: string; status: string; reason: string };
interface Hosted extends KubeObject {
  metadata: KubeObject["metadata"] & { labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: string };
  spec: Record<string, unknown> & { machineName?: string; expiresAt?: string; suspended?: boolean };
  status?: { conditions?: Condition[]; owner?: { uid?: number; welcome?: string } };
}

const condition = (o: Hosted | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const isTrue = (o: Hosted | undefined, type: string) => condition(o, type)?.status === "True";

describe("demo orders end to end", () => {
  const stack = new Stack({ autoRunTasks: false });
  const clock = new WebhookClock(new Date(Date.now() - 30 * DAY + LEAD_MS));
  const demoEnds = clock.now().getTime() + 30 * DAY;
  let postgres: TestPostgres;
  let stub: StripeStub;
  let service: WebhookService;
  // Aegir runs its queued tasks at once, except while a test holds them back.
  let holdTasks = false;
  const tasks = setInterval(() => holdTasks || stack.sim.drainTasks(), 100);

  const get = (kind: "HostedSite" | "HostedSpace", name: string) => stack.api.objects.get({ apiVersion: API_VERSION, kind, namespace: "customers", name }) as Hosted | undefined;
  const ofSubscription = (kind: "HostedSite" | "HostedSpace", id: string) =>
    (stack.api.objects.list(API_VERSION, kind, { namespace: "customers" }) as Hosted[]).filter((o) => o.metadata.labels?.[SUBSCRIPTION_LABEL] === id);
  /** Delivers the event twice under its id, as Stripe retries, and once more under a new id when given. */
  const sendTwice = async (event: StripeEvent, again?: StripeEvent) => {
    for (const e of [event, event, ...(again ? [again] : [])]) expect(await deliver(service, e)).toBe(200);
  };
  const shared = () => stack.sim.site(SHARED)!.drupal!;
  const spaceMails = (mail: string) => shared().outbox.filter((m) => m.kind === "space_welcome" && m.to === mail);
  const nodeOf = (space: Hosted): SpaceNode => spaceByMachine(shared(), space.spec.machineName ?? "")!;

  beforeAll(async () => {
    [postgres, stub] = await Promise.all([startTestPostgres(), startStripeStub(), stack.start()]);
    stack.api.objects.create(JSON.parse(stack.hostedSite("demo", SHARED, { features: [], userQuota: 1000 })) as KubeObject);
    stack.controller("replica-a");
    const kc = new KubeConfig();
    kc.loadFromFile(stack.kubeconfig);
    service = await startTestWebhook(await postgres.freshDatabase(), stub, { overrides: { applier: kubeApplier(kc), now: clock.now } });
    clock.attach(service.pool);
  }, 60_000);
  afterAll(async () => {
    clearInterval(tasks);
    await service?.stop();
    await Promise.all([postgres?.stop(), stub?.close(), stack.stop()]);
  });

  const ADA = "ada@acme.example.com";
  let acme: SeededOrder;
  let name: string;

  it("(a) turns a demo order into a Ready HostedSpace, its owner the space's administrator, welcomed once", async () => {
    acme = seedOrder(stub, { items: { demo_monthly: 1 }, subdomain: "acme", email: ADA, name: "Ada Lovelace" });
    name = siteName(acme.subscription.id);
    await sendTwice(checkoutEvent(stub, "checkout.session.completed", acme.session.id), checkoutEvent(stub, "checkout.session.completed", acme.session.id));
    const space = await eventually(() => (isTrue(get("HostedSpace", name), "Ready") ? get("HostedSpace", name) : undefined), 20_000, "the demo's space Ready");
    expect(Date.now()).toBeLessThan(demoEnds);

    expect(space.spec).toMatchObject({ site: { hostedSite: "demo" }, memberQuota: 5, owner: { email: ADA }, suspended: false });
    expect(Date.parse(space.spec.expiresAt ?? "")).toBe(Math.floor(demoEnds / 1000) * 1000);
    expect(space.metadata.annotations?.[DEMO_ENDS_ANNOTATION]).toBe(space.spec.expiresAt);
    const owner = userByMail(shared(), ADA)!;
    expect(owner.uid).toBeGreaterThan(1);
    expect(owner.roles).not.toContain("administrator");
    expect([...nodeOf(space).members]).toEqual([[owner.uid, { state: 1, roles: ["member", OG_ADMINISTRATOR_ROLE] }]]);
    expect(spaceMails(ADA).map((m) => m.uid)).toEqual([owner.uid]);
    expect(space.status?.owner).toMatchObject({ uid: owner.uid, welcome: "Sent" });
    expect(ofSubscription("HostedSite", acme.subscription.id)).toEqual([]);
  }, 30_000);

  it("(b) upgraded to Business: a Ready HostedSite, the space kept open past the demo's end until then, then archived by the demo's expiry", async () => {
    // The new site's install waits in the queue, so the space outlives the demo's end meanwhile.
    holdTasks = true;
    acme.subscription.items = [{ price: ensurePrice(stub, "business_monthly"), quantity: 1 }];
    await sendTwice(subscriptionEvent(stub, "customer.subscription.updated", acme.subscription.id), subscriptionEvent(stub, "customer.subscription.updated", acme.subscription.id));
    const site = await eventually(() => get("HostedSite", name), 20_000, "the upgrade's HostedSite");
    expect(site.spec).toMatchObject({ domain: "acme.sites.openatria.com", userQuota: 50, owner: { email: ADA } });
    await eventually(() => (get("HostedSpace", name)?.spec.supersededBy !== undefined ? true : undefined), 20_000, "the space superseded by the site");

    await new Promise((r) => setTimeout(r, Math.max(0, demoEnds - Date.now()) + 5_000));
    const held = get("HostedSpace", name)!;
    expect(isTrue(get("HostedSite", name), "Ready")).toBe(false);
    expect(held.spec).toMatchObject({ expiresAt: held.metadata.annotations?.[DEMO_ENDS_ANNOTATION], supersededBy: { hostedSite: name } });
    expect(condition(held, "Expired")).toMatchObject({ status: "False", reason: "KeptForUpgrade" });
    expect(isTrue(held, "Ready")).toBe(true);
    expect(nodeOf(held).status).toBe(1);

    holdTasks = false;
    await eventually(() => (isTrue(get("HostedSite", name), "Ready") ? true : undefined), 60_000, "the upgrade's site Ready");
    const expired = await eventually(() => (isTrue(get("HostedSpace", name), "Expired") ? get("HostedSpace", name) : undefined), 30_000, "the space expired");
    expect(condition(expired, "Ready")).toMatchObject({ status: "False", reason: "Expired" });
    // Archived, not deleted: the node is unpublished, its owner and content stay.
    const node = nodeOf(expired);
    expect(node.status).toBe(0);
    expect(expired.metadata.deletionTimestamp).toBeUndefined();

    // Nothing twice: one site, one space, one space node, one owner membership, one mail each.
    expect(ofSubscription("HostedSite", acme.subscription.id)).toHaveLength(1);
    expect(ofSubscription("HostedSpace", acme.subscription.id)).toHaveLength(1);
    expect([...shared().outbox, ...(stack.sim.site("acme.sites.openatria.com")?.drupal?.outbox ?? [])].filter((m) => m.to === ADA).map((m) => m.kind).sort()).toEqual([
      "register_admin_created",
      "space_welcome",
    ]);
    expect([...node.members.keys()]).toEqual([userByMail(shared(), ADA)!.uid]);
    expect(stack.sim.siteNodes("acme.sites.openatria.com")).toHaveLength(1);
    expect(await order(service, acme.subscription.id)).toMatchObject({ state: "active", options: { kit: "business" } });
  }, 120_000);

  it("(c) suspends a demo's space when its payment is overdue beyond the grace, parked or not, as a site's, and resumes it when paid", async () => {
    // The clock catches up with real time, as the database's timers run on it: a later demo, whose
    // 30 days end long after this test.
    await clock.advance(30 * DAY);
    const BOB = "bob@tinker.example.com";
    const tinker = seedOrder(stub, { items: { demo_monthly: 1 }, subdomain: "tinker", email: BOB });
    const sub = tinker.subscription;
    const id = sub.id;
    const space = () => get("HostedSpace", siteName(id));
    setLatestInvoice(stub, sub, { id: "in_tinker_first", status: "paid", status_transitions: { finalized_at: clock.unix(), paid_at: clock.unix() } });
    await sendTwice(checkoutEvent(stub, "checkout.session.completed", tinker.session.id));
    await eventually(() => (isTrue(space(), "Ready") ? true : undefined), 20_000, "the second demo's space Ready");

    // A renewal fails: past due within the grace, the space stays open as a site keeps running.
    sub.status = "past_due";
    setLatestInvoice(stub, sub, { id: "in_tinker_renewal", status: "open", status_transitions: { finalized_at: clock.unix(-2 * MINUTE) } });
    await sendTwice(invoiceEvent("invoice.payment_failed", id));
    await eventually(() => (space()?.metadata.annotations?.[PAYMENT_STATUS_ANNOTATION] === "past_due" ? true : undefined), 10_000, "the past-due marker");
    expect(space()?.spec.suspended).toBe(false);

    // The plan changes to a price the catalog does not know: parked, the space as it was.
    stub.prices.set("price_unknownTier", { id: "price_unknownTier", product: "prod_unknownTier", lookup_key: "support_platinum" });
    sub.items.push({ price: "price_unknownTier", quantity: 1 });
    await sendTwice(subscriptionEvent(stub, "customer.subscription.updated", id));
    await eventually(async () => ((await order(service, id))?.state === "parked" ? true : undefined), 10_000, "the order parked");
    expect(space()?.spec.suspended).toBe(false);
    expect(isTrue(space(), "Ready")).toBe(true);

    // The grace ends while it is parked: suspended, the space archived with its content kept.
    await clock.advance(GRACE);
    const suspended = await eventually(() => (isTrue(space(), "Suspended") ? space() : undefined), 30_000, "the space suspended");
    expect(suspended.spec.suspended).toBe(true);
    expect(nodeOf(suspended).status).toBe(0);
    expect(nodeOf(suspended).members.size).toBe(1);

    // Paid: resumed, although the order is still parked on its unknown price.
    sub.status = "active";
    setLatestInvoice(stub, sub, { id: "in_tinker_renewal", status: "paid", status_transitions: { finalized_at: clock.unix(-GRACE), paid_at: clock.unix() } });
    await sendTwice(invoiceEvent("invoice.paid", id));
    const resumed = await eventually(() => (space()?.spec.suspended === false && isTrue(space(), "Ready") ? space() : undefined), 30_000, "the space resumed");
    expect(nodeOf(resumed).status).toBe(1);
    expect(await order(service, id)).toMatchObject({ state: "parked" });
    expect(ofSubscription("HostedSite", id)).toEqual([]);
    expect(spaceMails(BOB)).toHaveLength(1);
  }, 90_000);
});
