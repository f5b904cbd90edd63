// What the informer caches keep of an object: validated spec and status, the metadata the
// reconcilers read and nothing else, equal strings shared between objects.
import { describe, expect, it } from "vitest";
import { LAST_APPLIED_ANNOTATION, StringInterner, cacheParsers } from "../../controller/kube/cache-objects.ts";
import { readyCondition } from "../kube/fixtures.ts";
import { aegirServer, hostedSite } from "../hostedsite/fixtures.ts";

/** An object as the API server sends it: a fresh JSON parse, with server-owned metadata. */
function fromServer(object: object, metadata: Record<string, unknown>): unknown {
  const raw = JSON.parse(JSON.stringify(object)) as { metadata: Record<string, unknown> };
  Object.assign(raw.metadata, metadata);
  return raw;
}

const serverMeta = (name: string) => ({
  name,
  namespace: "customers",
  uid: `uid-${name}`,
  resourceVersion: "7",
  generation: 2,
  creationTimestamp: "2027-03-01T09:00:00Z",
  labels: { tier: "standard" },
  annotations: { [LAST_APPLIED_ANNOTATION]: '{"a":"whole manifest"}', "hosting.openatria.com/welcome-requested": "2027-03-01T09:05:00.000Z" },
  finalizers: ["hosting.openatria.com/aegir-site"],
  ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "x", uid: "u" }],
  managedFields: [{ manager: "kubectl", operation: "Apply", fieldsType: "FieldsV1", fieldsV1: { "f:spec": {} } }],
});

describe("cacheParsers", () => {
  it("keeps the metadata reconcilers read, and drops managedFields and the last-applied copy", () => {
    const { parseSite } = cacheParsers();
    const site = parseSite(fromServer({ ...hostedSite(), status: { server: "aegir-1", conditions: [readyCondition(2)] } }, serverMeta("acme")));
    expect(site?.metadata).toEqual({
      name: "acme",
      namespace: "customers",
      uid: "uid-acme",
      resourceVersion: "7",
      generation: 2,
      creationTimestamp: "2027-03-01T09:00:00Z",
      labels: { tier: "standard" },
      annotations: { "hosting.openatria.com/welcome-requested": "2027-03-01T09:05:00.000Z" },
      finalizers: ["hosting.openatria.com/aegir-site"],
    });
    expect(site?.spec).toEqual(hostedSite().spec);
    expect(site?.status).toEqual({ server: "aegir-1", conditions: [readyCondition(2)] });
  });

  it("skips objects whose spec is invalid or that have no namespace, and an invalid status", () => {
    const { parseSite, parseServer } = cacheParsers();
    const site = hostedSite();
    expect(parseSite(fromServer({ ...site, spec: { ...site.spec, userQuota: -1 } }, serverMeta("bad")))).toBeUndefined();
    expect(parseSite(fromServer(site, { ...serverMeta("nons"), namespace: undefined }))).toBeUndefined();
    expect(parseSite(null)).toBeUndefined();
    const withBadStatus = parseSite(fromServer({ ...site, status: { server: "Not A Name!" } }, serverMeta("odd")));
    expect(withBadStatus?.spec).toEqual(site.spec);
    expect(withBadStatus && "status" in withBadStatus).toBe(false);
    const server = parseServer(fromServer(aegirServer(), { name: "aegir-1", managedFields: [{}] }));
    expect(server?.metadata).toEqual({ name: "aegir-1" });
    expect(server?.spec).toEqual(aegirServer().spec);
  });
});

describe("StringInterner", () => {
  // String identity is not observable from JavaScript; what is: values come back unchanged and
  // the table stays bounded however many distinct strings pass through it.
  it("returns equal strings and holds at most two generations", () => {
    const interner = new StringInterner(100);
    for (let i = 0; i < 10_000; i++) expect(interner.intern(`site-${i}`)).toBe(`site-${i}`);
    expect(interner.size).toBeLessThanOrEqual(200);
    for (let i = 0; i < 1_000; i++) interner.intern("Ready");
    expect(interner.intern(["Re", "ady"].join(""))).toBe("Ready");
  });

  it("interns in place, leaving numbers, booleans, long strings and frozen objects alone", () => {
    const interner = new StringInterner();
    const long = "y".repeat(1000);
    const value = { a: ["s", 1, true, null], b: { c: "s", d: long } };
    expect(interner.internDeep(value)).toEqual({ a: ["s", 1, true, null], b: { c: "s", d: long } });
    expect(interner.size).toBe(1);
    expect(interner.internDeep(Object.freeze({ a: "t" }))).toEqual({ a: "t" });
  });
});
