// Streamed lists: the splitter hands over exactly the items of `items`, wherever the chunks
// break, and KubeRest.list reads a real list response from the fake API server that way.
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ListItemSplitter } from "../../common/kube/list-stream.ts";
import { KubeApiError, KubeRest } from "../../common/kube/rest.ts";
import { API_VERSION } from "../../crds/group.ts";
import { type FakeApiServer, startFakeApiServer } from "../harness/kube/index.ts";
import { hostedSite } from "../hostedsite/fixtures.ts";

function split(chunks: Uint8Array[]): { items: unknown[]; rest: Record<string, unknown> } {
  const items: unknown[] = [];
  const splitter = new ListItemSplitter((json) => items.push(JSON.parse(json)));
  for (const chunk of chunks) splitter.push(chunk);
  return { items, rest: splitter.end() };
}

const LIST = {
  kind: "ThingList",
  // Strings that look like structure, escapes, a key named items inside an item, nested arrays.
  items: [
    { metadata: { name: "a", annotations: { note: 'say "items": [1, {2}] \\ done' } }, spec: { items: [[1, 2], { x: [] }] } },
    { metadata: { name: "b" }, spec: { text: "grüße, 日本語, emoji 🚀" } },
    { metadata: { name: "c" }, spec: {} },
  ],
  metadata: { resourceVersion: "42", continue: "" },
  apiVersion: "v1",
};

describe("ListItemSplitter", () => {
  it("yields every item and the list's own fields, whatever the chunk boundaries", () => {
    const bytes = new TextEncoder().encode(JSON.stringify(LIST, null, 1));
    const whole = split([bytes]);
    expect(whole.items).toEqual(LIST.items);
    expect(whole.rest).toEqual({ ...LIST, items: [] });
    for (const size of [1, 2, 3, 7, 64]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size));
      expect(split(chunks).items, `chunks of ${size}`).toEqual(LIST.items);
    }
    // Splitting inside every multi-byte character at once: the scanner never looks inside them.
    for (let cut = 1; cut < bytes.length; cut += 5) expect(split([bytes.subarray(0, cut), bytes.subarray(cut)]).items).toEqual(LIST.items);
  });

  it("handles empty and missing item lists, and refuses a truncated body", () => {
    expect(split([new TextEncoder().encode('{"items":[],"metadata":{"resourceVersion":"1"}}')])).toEqual({ items: [], rest: { items: [], metadata: { resourceVersion: "1" } } });
    expect(split([new TextEncoder().encode('{"kind":"items","items":null}')])).toEqual({ items: [], rest: { kind: "items", items: null } });
    const truncated = new ListItemSplitter(() => {});
    truncated.push(new TextEncoder().encode('{"items":[{"a":1},{"b":'));
    expect(() => truncated.end()).toThrow(SyntaxError);
  });
});

describe("KubeRest.list against the fake API server", () => {
  let api: FakeApiServer;
  let rest: KubeRest;

  beforeEach(async () => {
    api = await startFakeApiServer({ namespaces: ["customers"] });
    const kc = new KubeConfig();
    kc.loadFromString(api.kubeconfigYaml());
    rest = new KubeRest(kc);
  });
  afterEach(() => api.close());

  it("streams the same items and resourceVersion a whole read returns", async () => {
    for (let i = 0; i < 30; i++) api.objects.create({ ...hostedSite({ domain: `s${i}.sites.example.com` }), metadata: { name: `s${i}`, namespace: "customers" } });
    const path = `/apis/${API_VERSION}/hostedsites`;
    const whole = await rest.request<{ metadata: { resourceVersion: string }; items: unknown[] }>("GET", path);
    const streamed: unknown[] = [];
    const metadata = await rest.list(path, (item) => streamed.push(item));
    expect(streamed).toEqual(whole.items);
    expect(streamed).toHaveLength(30);
    expect(metadata.resourceVersion).toBe(whole.metadata.resourceVersion);
  });

  it("fails like a request does when the server refuses the list", async () => {
    await expect(rest.list(`/apis/${API_VERSION}/nothings`, () => {})).rejects.toBeInstanceOf(KubeApiError);
  });
});
