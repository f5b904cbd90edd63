// Pure: the outbox manifest of an order whose kit is a demo (a HostedSpace in a shared site), or
// that was one. The decision always yields the HostedSite the order stands for; here a demo kit
// turns it into the space, and after an upgrade to a paid kit the space is applied beside the
// new site, superseded by it: the controller keeps it open until the site is Ready, then lets
// the demo's expiry apply. A demo order parked stays a demo. Same names (the subscription's), so
// nothing is created twice.
import { API_VERSION } from "../crds/group.ts";
import type { HostedSpaceSpecInput } from "../crds/hostedspace.ts";
import type { CatalogKit } from "./catalog.ts";
import { type HostedSiteManifest, rfc3339 } from "./hostedsite-manifest.ts";

/** When the demo ends: set once, when the space is first ordered, and kept through every re-decision. */
export const DEMO_ENDS_ANNOTATION = "hosting.openatria.com/demo-ends";

export interface HostedSpaceManifest {
  apiVersion: string;
  kind: "HostedSpace";
  metadata: HostedSiteManifest["metadata"];
  spec: HostedSpaceSpecInput;
}

/** Several objects applied together, in order. */
export interface ManifestList {
  apiVersion: "v1";
  kind: "List";
  items: Array<HostedSiteManifest | HostedSpaceManifest>;
}

/** What the outbox holds and the relay applies. */
export type OrderManifest = HostedSiteManifest | ManifestList;

export function itemsOf(manifest: OrderManifest): Array<HostedSiteManifest | HostedSpaceManifest> {
  return manifest.kind === "List" ? manifest.items : [manifest];
}

export interface SpaceOrderInput {
  /** The decision's HostedSite. */
  site: HostedSiteManifest;
  /** The kit ordered now (undefined: parked without a mapped kit). */
  kit: CatalogKit | undefined;
  /** The HostedSpace the outbox last held for this subscription, if any. */
  previous: HostedSpaceManifest | undefined;
  /** The decision parked the order: its site is the last spec, with payment applied. */
  parked: boolean;
  now: Date;
}

export function orderManifest(input: SpaceOrderInput): OrderManifest {
  const { site, kit, previous } = input;
  const demo = kit?.space;
  if (demo !== undefined) {
    const demoEnds = demoEndsOf(previous) ?? rfc3339(new Date(input.now.getTime() + demo.days * 86_400_000));
    return { apiVersion: "v1", kind: "List", items: [demoSpace(site, { hostedSite: demo.hostedSite }, demoEnds)] };
  }
  if (previous === undefined) return site;
  // Parked while still a demo (whatever kit it asks for now): the space stays one, following payment.
  const demoEnds = demoEndsOf(previous);
  if (input.parked && previous.spec.supersededBy === undefined && demoEnds !== undefined) {
    return { apiVersion: "v1", kind: "List", items: [demoSpace(site, previous.spec.site, demoEnds)] };
  }
  const kept: HostedSpaceManifest = { ...previous, spec: { ...previous.spec, supersededBy: { hostedSite: site.metadata.name } } };
  return { apiVersion: "v1", kind: "List", items: [site, kept] };
}

/** The manifest is a demo's: a space and no HostedSite. */
export function isDemo(manifest: OrderManifest): boolean {
  return itemsOf(manifest).every((item) => item.kind === "HostedSpace");
}

const demoEndsOf = (previous: HostedSpaceManifest | undefined) => previous?.metadata.annotations[DEMO_ENDS_ANNOTATION];

function demoSpace(site: HostedSiteManifest, shared: HostedSpaceSpecInput["site"], demoEnds: string): HostedSpaceManifest {
  const spec = site.spec;
  // A canceled subscription ends the demo sooner.
  const expiresAt = spec.expiresAt !== undefined && spec.expiresAt < demoEnds ? spec.expiresAt : demoEnds;
  const space: HostedSpaceSpecInput = {
    site: shared,
    title: spec.domain.split(".")[0] ?? spec.domain,
    machineName: site.metadata.name.replaceAll("-", "_"),
    memberQuota: spec.userQuota,
    owner: spec.owner,
    support: spec.support,
    suspended: spec.suspended ?? false,
    expiresAt,
    ...(spec.order === undefined ? {} : { order: spec.order }),
  };
  return { apiVersion: API_VERSION, kind: "HostedSpace", metadata: { ...site.metadata, annotations: { ...site.metadata.annotations, [DEMO_ENDS_ANNOTATION]: demoEnds } }, spec: space };
}
