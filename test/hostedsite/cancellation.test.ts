// A cancellation the customer scheduled (spec.order.cancelAt, written by the webhook from
// Stripe's cancel_at_period_end / cancel_at) is a condition on the HostedSite until the end.
import { describe, expect, it } from "vitest";
import { hostedSite } from "./fixtures.ts";
import { Rig } from "./harness.ts";

const stripeOrder = { source: "stripe" as const, subscription: "sub_1Cancelling", customer: "cus_1Cancelling" };

describe("CancellationScheduled", () => {
  it("is True with the end date while the site runs to the end of its subscription, and goes when taken back", async () => {
    const rig = new Rig(hostedSite({ order: { ...stripeOrder, cancelAt: "2027-04-01T00:00:00Z" } }));
    await rig.converge();
    expect(rig.condition("CancellationScheduled")).toMatchObject({
      status: "True",
      reason: "SubscriptionEnding",
      message: "The subscription ends at 2027-04-01T00:00:00Z; the site runs until then",
      observedGeneration: 1,
    });
    // Still paid until then: the site stays Ready.
    expect(rig.condition("Ready")).toMatchObject({ status: "True" });

    rig.store.editSpec((spec) => (spec.order = stripeOrder));
    await rig.converge();
    expect(rig.condition("CancellationScheduled")).toMatchObject({ status: "False", reason: "NotScheduled" });
  });

  it("is not reported once the site has expired", async () => {
    const rig = new Rig(hostedSite({ expiresAt: "2027-03-01T12:00:00Z", order: { ...stripeOrder, cancelAt: "2027-02-15T00:00:00Z" } }));
    rig.now = new Date("2027-03-02T00:00:00Z");
    for (let i = 0; i < 4; i++) {
      await rig.reconcile();
      rig.advance(5_000);
    }
    expect(rig.condition("Expired")).toMatchObject({ status: "True" });
    expect(rig.condition("CancellationScheduled")).toMatchObject({ status: "False", reason: "NotScheduled" });
  });
});
