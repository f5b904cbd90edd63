// The seller policies, pure: one decision and the payment facts in, the decision as the seller's
// rules want it out. And the catalog's `policies` section: defaults, and errors naming the field.
import { describe, expect, it } from "vitest";
import { loadCatalog, parseCatalog, type SellerPolicies } from "../../webhook/catalog.ts";
import { buildManifest, GRACE_PERIOD_ENDS_ANNOTATION } from "../../webhook/hostedsite-manifest.ts";
import type { Decision, OrderRecord } from "../../webhook/order-decision.ts";
import { applySellerPolicies, COLLECTION_PAUSED_ANNOTATION, DISPUTE_ANNOTATION, type DisputeFact, type PolicyFacts } from "../../webhook/policies.ts";

const DAY = 86_400_000;
const NOW = new Date("2027-03-01T12:00:00Z");
const FLAG: SellerPolicies = { disputes: { open: "flag", lost: "flag" }, pausedCollection: { grace: 30 * DAY } };
const SUSPEND: SellerPolicies = { disputes: { open: "suspend", lost: "suspend" }, pausedCollection: { grace: 30 * DAY } };

function decision(order: Partial<OrderRecord> = {}, cancelAt?: string): Decision {
  return {
    order: {
      state: "active",
      reason: null,
      customerId: "cus_1Policy",
      customerEmail: "jane@acme.example.com",
      checkoutSessionId: null,
      domain: "acme.sites.openatria.com",
      options: null,
      subscriptionStatus: "active",
      pastDueSince: null,
      provisioned: true,
      siteName: "sub-1policy",
      wantedDomain: null,
      ...order,
    },
    manifest: buildManifest({
      namespace: "customers",
      subscriptionId: "sub_1Policy",
      spec: {
        domain: "acme.sites.openatria.com",
        profile: "openatrium",
        userQuota: 10,
        support: { tier: "Basic" },
        owner: { email: "jane@acme.example.com" },
        suspended: false,
        order: { source: "stripe", subscription: "sub_1Policy", customer: "cus_1Policy", ...(cancelAt === undefined ? {} : { cancelAt }) },
      },
      subscriptionStatus: "active",
      graceEndsAt: null,
    }),
    reviewAt: null,
    release: null,
  };
}

const facts = (over: Partial<PolicyFacts> = {}): PolicyFacts => ({ now: NOW, collectionPaused: false, collectionPausedSince: null, cancelAt: null, disputes: [], ...over });
const dispute = (status: string, id = "dp_1Policy"): DisputeFact => ({ id, status, reason: "fraudulent", amount: 2900, currency: "usd" });

describe("applySellerPolicies", () => {
  it("changes nothing when there is nothing to apply", () => {
    const d = decision();
    expect(applySellerPolicies(d, facts(), FLAG)).toEqual({ decision: d, collectionPausedSince: null });
  });

  it("keeps a paused site up through the grace with a review at its end, then suspends it", () => {
    const first = applySellerPolicies(decision(), facts({ collectionPaused: true }), FLAG);
    expect(first.collectionPausedSince).toEqual(NOW);
    expect(first.decision.reviewAt).toEqual(new Date(NOW.getTime() + 30 * DAY));
    expect(first.decision.manifest?.spec.suspended).toBe(false);
    expect(first.decision.manifest?.metadata.annotations).toMatchObject({ [COLLECTION_PAUSED_ANNOTATION]: "2027-03-01T12:00:00Z", [GRACE_PERIOD_ENDS_ANNOTATION]: "2027-03-31T12:00:00Z" });

    const later = new Date(NOW.getTime() + 30 * DAY);
    const over = applySellerPolicies(decision(), facts({ now: later, collectionPaused: true, collectionPausedSince: NOW }), FLAG);
    expect(over.collectionPausedSince).toEqual(NOW);
    expect(over.decision.manifest?.spec.suspended).toBe(true);
    expect(over.decision.order).toMatchObject({ state: "suspended", reason: "payment collection paused since 2027-03-01T12:00:00Z, beyond the 30d grace" });
    expect(over.decision.reviewAt).toBeNull();
  });

  it("reviews at the earlier of a past-due grace and the pause grace", () => {
    const pastDueEnds = new Date(NOW.getTime() + 3 * DAY);
    const d = { ...decision(), reviewAt: pastDueEnds };
    expect(applySellerPolicies(d, facts({ collectionPaused: true }), FLAG).decision.reviewAt).toEqual(pastDueEnds);
  });

  it("flags an open or lost dispute by default, suspends under the suspend policy, and a won one clears", () => {
    const flagged = applySellerPolicies(decision(), facts({ disputes: [dispute("needs_response")] }), FLAG).decision;
    expect(flagged.manifest?.spec.suspended).toBe(false);
    expect(flagged.manifest?.metadata.annotations[DISPUTE_ANNOTATION]).toBe("payment disputed: dp_1Policy is open (2900 usd, fraudulent)");
    expect(flagged.order).toMatchObject({ state: "active", reason: "payment disputed: dp_1Policy is open (2900 usd, fraudulent) (flagged)" });

    const suspended = applySellerPolicies(decision(), facts({ disputes: [dispute("won", "dp_1Old"), dispute("under_review")] }), SUSPEND).decision;
    expect(suspended.manifest?.spec.suspended).toBe(true);
    expect(suspended.order.state).toBe("suspended");

    const lost = applySellerPolicies(decision(), facts({ disputes: [dispute("lost")] }), { ...FLAG, disputes: { open: "flag", lost: "suspend" } }).decision;
    expect(lost.manifest?.metadata.annotations[DISPUTE_ANNOTATION]).toBe("payment dispute dp_1Policy was lost (2900 usd, fraudulent)");
    expect(lost.manifest?.spec.suspended).toBe(true);

    const won = applySellerPolicies(decision(), facts({ disputes: [dispute("won"), dispute("warning_closed", "dp_1Inquiry")] }), SUSPEND).decision;
    expect(won.manifest?.metadata.annotations).not.toHaveProperty(DISPUTE_ANNOTATION);
    expect(won.manifest?.spec.suspended).toBe(false);
  });

  it("suspends a parked order's site but leaves it parked with its reason", () => {
    const d = decision({ state: "parked", reason: "no kit item" });
    const out = applySellerPolicies(d, facts({ disputes: [dispute("needs_response")] }), SUSPEND).decision;
    expect(out.order).toMatchObject({ state: "parked", reason: "no kit item" });
    expect(out.manifest?.spec.suspended).toBe(true);
  });

  it("shows a scheduled cancellation, removes one taken back even from a reused spec, and drops it once ended", () => {
    const end = new Date("2027-04-01T00:00:00Z");
    expect(applySellerPolicies(decision(), facts({ cancelAt: end }), FLAG).decision.manifest?.spec.order).toMatchObject({ cancelAt: "2027-04-01T00:00:00Z" });
    const reused = decision({ state: "parked" }, "2027-04-01T00:00:00Z");
    expect(applySellerPolicies(reused, facts(), FLAG).decision.manifest?.spec.order).not.toHaveProperty("cancelAt");
    expect(applySellerPolicies(decision({ state: "ended" }), facts({ cancelAt: end }), FLAG).decision.manifest?.spec.order).not.toHaveProperty("cancelAt");
  });

  it("leaves a decision without a manifest without one", () => {
    const d: Decision = { ...decision({ provisioned: false, state: "awaiting_payment" }), manifest: null };
    const out = applySellerPolicies(d, facts({ collectionPaused: true, disputes: [dispute("needs_response")] }), SUSPEND);
    expect(out.decision.manifest).toBeNull();
    expect(out.decision.order.state).toBe("awaiting_payment");
  });
});

describe("the catalog's policies", () => {
  const minimal = "managedZone: sites.example.com\nkits: {c: {profile: openatrium, userQuota: 1, support: {tier: Basic}}}\nitems: {c_monthly: {kit: c}}\n";

  it("default to flagging disputes and a 30 day grace for paused collection", async () => {
    expect(parseCatalog(minimal, "test").policies).toEqual(FLAG);
    expect((await loadCatalog()).policies).toEqual(FLAG);
  });

  it("name the field of every bad value", () => {
    expect(() => parseCatalog(`${minimal}policies: {disputes: {open: refund}, pausedCollection: {grace: soon}, refunds: {}}\n`, "test")).toThrow(
      /policies\.disputes\.open: must be flag or suspend[\s\S]*policies\.pausedCollection\.grace: must be a duration like 90s, 15m, 36h or 7d/,
    );
    expect(() => parseCatalog(`${minimal}policies: {refunds: {}}\n`, "test")).toThrow(/policies: Unrecognized key: "refunds"/);
  });
});
