// The fake API server over HTTP: discovery, OpenAPI, errors, patches, field validation, lists,
// tables, watches and fault injection, checked with plain fetch.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, GROUP } from "../../crds/kinds.ts";
import { type FakeApiServer, type KubeObject, startFakeApiServer } from "../harness/kube/index.ts";
import { decodeProtobuf } from "../harness/kube/protobuf.ts";
import { NAMESPACE, hostedSite, readyCondition } from "./fixtures.ts";

const SITES = `/apis/${GROUP}/v1alpha1/namespaces/${NAMESPACE}/hostedsites`;
const CONFIGMAPS = `/api/v1/namespaces/${NAMESPACE}/configmaps`;
const TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
const AGGREGATED_ACCEPT =
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { items?: KubeObject[] };
}

function client(server: () => FakeApiServer) {
  return async (method: string, path: string, options: { body?: unknown; contentType?: string; accept?: string } = {}): Promise<Reply> => {
    const headers: Record<string, string> = { accept: options.accept ?? "application/json" };
    if (options.body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
    const response = await fetch(server().url + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text.startsWith("{") ? JSON.parse(text) : { text }) as Reply["body"] };
  };
}

interface WatchEvent {
  type: string;
  object: KubeObject & { code?: number; reason?: string; rows?: Array<{ cells: unknown[] }> };
}

/** An open watch read line by line; `next()` waits for the following event. */
async function openWatch(url: string, accept = "application/json") {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept }, signal: controller.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let ended = false;
  const next = async (timeoutMs = 3000): Promise<WatchEvent | undefined> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const newline = buffer.indexOf("\n");
      if (newline !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        return JSON.parse(line) as WatchEvent;
      }
      if (ended) return undefined;
      const chunk = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no watch event in time")), Math.max(0, deadline - Date.now()))),
      ]);
      if (chunk.done) ended = true;
      else buffer += decoder.decode(chunk.value as Uint8Array, { stream: true });
    }
  };
  return { status: response.status, headers: response.headers, next, close: () => controller.abort() };
}

describe("fake API server over HTTP", () => {
  let server: FakeApiServer;
  let now = new Date("2026-03-01T12:00:00Z");
  const call = client(() => server);
  beforeAll(async () => {
    server = await startFakeApiServer({ namespaces: [NAMESPACE], clock: () => now });
  });
  afterAll(() => server.close());
  afterEach(async () => {
    server.faults.clear();
    await server.faults.available();
  });

  describe("discovery", () => {
    it("serves /version, and /api and /apis in the legacy or aggregated form the Accept header asks for", async () => {
      expect((await call("GET", "/version")).body).toMatchObject({ major: "1", minor: "32", gitVersion: "v1.32.4" });
      expect((await call("GET", "/api")).body).toMatchObject({ kind: "APIVersions", versions: ["v1"] });
      const groups = (await call("GET", "/apis")).body as { kind: string; groups: Array<{ name: string; preferredVersion: { version: string } }> };
      expect(groups.kind).toBe("APIGroupList");
      expect(groups.groups.map((g) => g.name)).toEqual(["apiextensions.k8s.io", "coordination.k8s.io", "events.k8s.io", GROUP]);

      const aggregated = await call("GET", "/apis", { accept: AGGREGATED_ACCEPT });
      expect(aggregated.headers.get("content-type")).toBe("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
      const items = aggregated.body.items as unknown as Array<{ metadata: { name: string }; versions: Array<{ resources: Array<Record<string, unknown>> }> }>;
      const hosting = items.find((i) => i.metadata.name === GROUP)!;
      expect(hosting.versions[0]!.resources.find((r) => r.resource === "hostedsites")).toMatchObject({
        responseKind: { group: GROUP, version: "v1alpha1", kind: "HostedSite" },
        scope: "Namespaced",
        shortNames: ["hs"],
        categories: ["aegir"],
        subresources: [{ subresource: "status", verbs: ["get", "patch", "update"] }],
      });
      const core = await call("GET", "/api", { accept: AGGREGATED_ACCEPT });
      expect((core.body.items as unknown as Array<{ versions: Array<{ resources: Array<{ resource: string }> }> }>)[0]!.versions[0]!.resources.map((r) => r.resource)).toEqual([
        "namespaces",
        "configmaps",
        "secrets",
        "events",
      ]);
    });

    it("serves APIResourceLists per group-version, with subresources", async () => {
      const list = (await call("GET", `/apis/${GROUP}/v1alpha1`)).body as { resources: Array<{ name: string; namespaced: boolean; kind: string }> };
      expect(list.resources.map((r) => [r.name, r.namespaced, r.kind])).toEqual([
        ["hostedsites", true, "HostedSite"],
        ["hostedsites/status", true, "HostedSite"],
        ["aegirservers", false, "AegirServer"],
        ["aegirservers/status", false, "AegirServer"],
        ["hostedspaces", true, "HostedSpace"],
        ["hostedspaces/status", true, "HostedSpace"],
        ["hostedsiterestores", true, "HostedSiteRestore"],
        ["hostedsiterestores/status", true, "HostedSiteRestore"],
        ["sitepools", false, "SitePool"],
        ["sitepools/status", false, "SitePool"],
        ["platformrollouts", false, "PlatformRollout"],
        ["platformrollouts/status", false, "PlatformRollout"],
      ]);
      expect((await call("GET", "/api/v1")).body).toMatchObject({ kind: "APIResourceList", groupVersion: "v1" });
      expect((await call("GET", "/apis/nope.example.com/v1")).status).toBe(404);
    });

    it("publishes OpenAPI v3 with the PATCH details kubectl looks for", async () => {
      const index = (await call("GET", "/openapi/v3")).body as { paths: Record<string, { serverRelativeURL: string }> };
      expect(Object.keys(index.paths)).toEqual(["api/v1", "apis/apiextensions.k8s.io/v1", "apis/coordination.k8s.io/v1", "apis/events.k8s.io/v1", `apis/${GROUP}/v1alpha1`]);
      const doc = (await call("GET", index.paths[`apis/${GROUP}/v1alpha1`]!.serverRelativeURL)).body as {
        paths: Record<string, { patch?: { parameters: Array<{ name: string; in: string }>; requestBody: { content: Record<string, unknown> }; "x-kubernetes-group-version-kind": unknown } }>;
        components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
      };
      const patch = doc.paths[`/apis/${GROUP}/v1alpha1/namespaces/{namespace}/hostedsites/{name}`]!.patch!;
      expect(patch["x-kubernetes-group-version-kind"]).toEqual({ group: GROUP, version: "v1alpha1", kind: "HostedSite" });
      expect(patch.parameters).toContainEqual(expect.objectContaining({ name: "fieldValidation", in: "query" }));
      expect(Object.keys(patch.requestBody.content)).toEqual(["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]);
      expect(doc.components.schemas["com.openatria.hosting.v1alpha1.HostedSite"]!.properties).toHaveProperty("spec");

      const core = (await call("GET", "/openapi/v3/api/v1")).body as typeof doc;
      expect(Object.keys(core.paths[`/api/v1/namespaces/{namespace}/configmaps/{name}`]!.patch!.requestBody.content)).toContain("application/strategic-merge-patch+json");
      expect((await call("GET", "/openapi/v2")).status).toBe(404);
    });
  });

  describe("errors and writes", () => {
    it("answers with Status bodies: 404 for unknown paths and objects, 409 AlreadyExists", async () => {
      expect(await call("GET", "/apis/nope/v1/things")).toMatchObject({
        status: 404,
        body: { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404, message: "the server could not find the requested resource" },
      });
      expect((await call("GET", `${SITES}/missing`)).body).toMatchObject({
        reason: "NotFound",
        message: 'hostedsites.hosting.openatria.com "missing" not found',
        details: { name: "missing", group: GROUP, kind: "hostedsites" },
      });
      expect((await call("POST", SITES, { body: hostedSite("dup") })).status).toBe(201);
      expect((await call("POST", SITES, { body: hostedSite("dup") })).body).toMatchObject({ code: 409, reason: "AlreadyExists", message: 'hostedsites.hosting.openatria.com "dup" already exists' });
      expect((await call("POST", `/api/v1/namespaces/nowhere/configmaps`, { body: { metadata: { name: "x" } } })).body).toMatchObject({ code: 404, message: 'namespaces "nowhere" not found' });
      expect((await call("POST", "/api/v1/configmaps", { body: { metadata: { name: "x", namespace: NAMESPACE } } })).body).toMatchObject({ code: 405, reason: "MethodNotAllowed" });
      expect((await call("GET", `${CONFIGMAPS}?watch=true&resourceVersion=abc`)).body).toMatchObject({ code: 400, reason: "BadRequest" });
    });

    it("applies fieldValidation: Strict refuses unknown fields, Warn (the default) prunes with a warning, Ignore prunes silently", async () => {
      const strict = await call("POST", `${SITES}?fieldValidation=Strict`, { body: hostedSite("fv", { colour: "blue" }) });
      expect(strict.body).toMatchObject({ code: 400, reason: "BadRequest", message: 'HostedSite in version "v1alpha1" cannot be handled as a HostedSite: strict decoding error: unknown field "spec.colour"' });
      const warn = await call("POST", SITES, { body: hostedSite("fv-warn", { colour: "blue" }) });
      expect(warn.status).toBe(201);
      expect(warn.headers.get("warning")).toBe('299 - "unknown field \\"spec.colour\\""');
      expect(warn.body.spec).not.toHaveProperty("colour");
      const ignore = await call("POST", `${SITES}?fieldValidation=Ignore`, { body: hostedSite("fv-ignore", { colour: "blue" }) });
      expect([ignore.status, ignore.headers.get("warning")]).toEqual([201, null]);
    });

    it("patches with merge, JSON and (built-in kinds only) strategic merge patch", async () => {
      await call("POST", SITES, { body: hostedSite("patchy") });
      const merged = await call("PATCH", `${SITES}/patchy`, { body: { spec: { userQuota: 30 } }, contentType: "application/merge-patch+json" });
      expect([merged.status, (merged.body.spec as { userQuota: number }).userQuota, (merged.body.metadata as { generation: number }).generation]).toEqual([200, 30, 2]);
      const json = await call("PATCH", `${SITES}/patchy`, {
        body: [{ op: "test", path: "/spec/userQuota", value: 30 }, { op: "replace", path: "/spec/userQuota", value: 31 }],
        contentType: "application/json-patch+json",
      });
      expect((json.body.spec as { userQuota: number }).userQuota).toBe(31);
      const failedTest = await call("PATCH", `${SITES}/patchy`, { body: [{ op: "test", path: "/spec/userQuota", value: 1 }], contentType: "application/json-patch+json" });
      expect(failedTest.body).toMatchObject({ code: 422, message: "testing value /spec/userQuota failed: test failed" });
      const strategic = await call("PATCH", `${SITES}/patchy`, { body: { spec: { userQuota: 1 } }, contentType: "application/strategic-merge-patch+json" });
      expect(strategic.body).toMatchObject({
        code: 415,
        reason: "UnsupportedMediaType",
        message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
      });

      await call("POST", CONFIGMAPS, { body: { metadata: { name: "smp", finalizers: ["example.com/a"] }, data: { a: "1", b: "2" } } });
      const smp = await call("PATCH", `${CONFIGMAPS}/smp`, {
        body: { metadata: { finalizers: ["example.com/b"], "$setElementOrder/finalizers": ["example.com/a", "example.com/b"] }, data: { a: null, c: "3" } },
        contentType: "application/strategic-merge-patch+json",
      });
      expect(smp.body).toMatchObject({ metadata: { finalizers: ["example.com/a", "example.com/b"] }, data: { b: "2", c: "3" } });
    });

    it("does server-side apply: fieldManager required, creates when missing, refuses undeclared fields", async () => {
      const yaml = `apiVersion: ${API_VERSION}\nkind: HostedSite\nmetadata:\n  name: applied\nspec:\n  domain: applied.example.com\n  profile: openatrium\n  userQuota: 3\n  support: {tier: Basic}\n  owner: {email: a@example.com}\n`;
      const noManager = await call("PATCH", `${SITES}/applied`, { body: yaml, contentType: "application/apply-patch+yaml" });
      expect(noManager.body).toMatchObject({ code: 422, message: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch' });
      const created = await call("PATCH", `${SITES}/applied?fieldManager=stripe-webhook`, { body: yaml, contentType: "application/apply-patch+yaml" });
      expect([created.status, (created.body.metadata as { managedFields: Array<{ manager: string }> }).managedFields[0]!.manager]).toEqual([201, "stripe-webhook"]);
      const again = await call("PATCH", `${SITES}/applied?fieldManager=stripe-webhook`, { body: yaml, contentType: "application/apply-patch+yaml" });
      expect([again.status, (again.body.metadata as { resourceVersion: string }).resourceVersion]).toEqual([200, (created.body.metadata as { resourceVersion: string }).resourceVersion]);
      const undeclared = await call("PATCH", `${SITES}/applied?fieldManager=stripe-webhook`, { body: yaml.replace("userQuota: 3", "userQuota: 3\n  colour: blue"), contentType: "application/apply-patch+yaml" });
      expect(undeclared.body).toMatchObject({
        code: 500,
        message: `failed to create typed patch object (${NAMESPACE}/applied; ${API_VERSION}, Kind=HostedSite): .spec.colour: field not declared in schema`,
      });
    });

    it("splits the status subresource from the main resource and honours dryRun", async () => {
      const created = (await call("POST", SITES, { body: hostedSite("sub") })).body as KubeObject;
      const status = { conditions: [readyCondition(1)] };
      const put = await call("PUT", `${SITES}/sub/status`, { body: { ...created, spec: { ...(created.spec as object), userQuota: 77 }, status } });
      expect(put.body).toMatchObject({ status, spec: { userQuota: 10 }, metadata: { generation: 1 } });
      expect((await call("GET", `${SITES}/sub/status`)).body).toMatchObject({ status });
      const dry = await call("POST", `${SITES}?dryRun=All`, { body: hostedSite("dry") });
      expect(dry.status).toBe(201);
      expect((await call("GET", `${SITES}/dry`)).status).toBe(404);
    });

    it("decodes the protobuf bodies kubectl's typed generators send", () => {
      // `kubectl create secret generic s1 --from-literal=a=b`, as captured from kubectl 1.32.
      const hex =
        "6b3873000a0c0a0276311206536563726574121e0a120a02733112001a0022002a0032003800420012060a01611201621a001a002200";
      expect(decodeProtobuf(Buffer.from(hex, "hex"))).toEqual({ apiVersion: "v1", kind: "Secret", metadata: { name: "s1" }, data: { a: "Yg==" } });
    });
  });

  describe("lists and tables", () => {
    beforeAll(async () => {
      for (const [name, tier] of [["list-a", "web"], ["list-b", "web"], ["list-c", "db"]] as const) {
        await call("POST", CONFIGMAPS, { body: { metadata: { name, labels: { tier, app: "shop" } } } });
      }
    });

    it("lists with a resourceVersion, label and field selectors, across namespaces, page by page", async () => {
      const all = await call("GET", `${CONFIGMAPS}?labelSelector=app%3Dshop`);
      expect(all.body).toMatchObject({ kind: "ConfigMapList", apiVersion: "v1", metadata: { resourceVersion: server.resourceVersion() } });
      expect(all.body.items!.map((i) => i.metadata.name)).toEqual(["list-a", "list-b", "list-c"]);
      expect(all.body.items![0]).not.toHaveProperty("kind"); // like typed lists of built-in kinds
      const names = async (query: string) => (await call("GET", `${CONFIGMAPS}?${query}`)).body.items!.map((i) => i.metadata.name);
      expect(await names("labelSelector=tier%3Dweb")).toEqual(["list-a", "list-b"]);
      expect(await names("labelSelector=app%3Dshop,tier%20notin%20(web)")).toEqual(["list-c"]);
      expect(await names("labelSelector=tier!%3Dweb,app")).toEqual(["list-c"]);
      expect(await names("fieldSelector=metadata.name%3Dlist-b")).toEqual(["list-b"]);
      expect((await call("GET", `${CONFIGMAPS}?fieldSelector=data.x%3Dy`)).body).toMatchObject({ code: 400, message: "field label not supported: data.x" });
      expect((await call("GET", `${SITES}?fieldSelector=spec.domain%3Dy`)).body).toMatchObject({ code: 400, message: '"spec.domain" is not a known field selector: only "metadata.name", "metadata.namespace"' });

      const page1 = await call("GET", `${CONFIGMAPS}?labelSelector=app%3Dshop&limit=2`);
      expect(page1.body.items!.map((i) => i.metadata.name)).toEqual(["list-a", "list-b"]);
      const meta = page1.body.metadata as { continue: string; remainingItemCount: number };
      expect(meta.remainingItemCount).toBe(1);
      const page2 = await call("GET", `${CONFIGMAPS}?labelSelector=app%3Dshop&limit=2&continue=${meta.continue}`);
      expect([page2.body.items!.map((i) => i.metadata.name), (page2.body.metadata as { continue?: string }).continue]).toEqual([["list-c"], undefined]);

      const everywhere = await call("GET", "/api/v1/configmaps?labelSelector=tier");
      expect(everywhere.body.items!.map((i) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual(["customers/list-a", "customers/list-b", "customers/list-c"]);
    });

    it("answers kubectl's Table requests with the CRD's printer columns and relative ages", async () => {
      server.objects.create({ ...hostedSite("tabled"), status: { conditions: [readyCondition(1)] } });
      now = new Date(now.getTime() + 150_000);
      const table = await call("GET", `${SITES}?fieldSelector=metadata.name%3Dtabled`, { accept: TABLE_ACCEPT });
      expect(table.headers.get("content-type")).toBe("application/json;as=Table;v=v1;g=meta.k8s.io");
      expect(table.body).toMatchObject({ kind: "Table", apiVersion: "meta.k8s.io/v1" });
      expect((table.body.columnDefinitions as Array<{ name: string }>).map((c) => c.name)).toEqual(["Name", "Domain", "Profile", "Tier", "Ready", "Reason", "Cancels", "Age"]);
      const row = (table.body.rows as Array<{ cells: unknown[]; object: KubeObject }>)[0]!;
      expect(row.cells).toEqual(["tabled", "tabled.sites.example.com", "openatrium", "Basic", "True", "Installed", null, "2m30s"]);
      expect(row.object).toMatchObject({ kind: "PartialObjectMetadata", metadata: { name: "tabled" } });

      const builtin = await call("GET", `${CONFIGMAPS}/list-a`, { accept: TABLE_ACCEPT });
      expect((builtin.body.columnDefinitions as Array<{ name: string }>).map((c) => c.name)).toEqual(["Name", "Age"]);
    });
  });

  describe("watch", () => {
    it("sends the changes after the given resourceVersion, and the current state without one", async () => {
      await call("POST", CONFIGMAPS, { body: { metadata: { name: "w-old" } } });
      const rv = server.resourceVersion();
      await call("POST", CONFIGMAPS, { body: { metadata: { name: "w-new" } } });
      const fromRv = await openWatch(`${server.url}${CONFIGMAPS}?watch=true&resourceVersion=${rv}`);
      expect(fromRv.status).toBe(200);
      expect(fromRv.headers.get("content-type")).toBe("application/json");
      expect(await fromRv.next()).toMatchObject({ type: "ADDED", object: { kind: "ConfigMap", apiVersion: "v1", metadata: { name: "w-new" } } });
      await call("DELETE", `${CONFIGMAPS}/w-old`);
      expect(await fromRv.next()).toMatchObject({ type: "DELETED", object: { metadata: { name: "w-old", resourceVersion: server.resourceVersion() } } });
      fromRv.close();

      const fresh = await openWatch(`${server.url}${CONFIGMAPS}?watch=1&fieldSelector=metadata.name%3Dw-new`);
      expect(await fresh.next()).toMatchObject({ type: "ADDED", object: { metadata: { name: "w-new" } } });
      fresh.close();
    });

    it("turns objects entering or leaving the label selection into ADDED and DELETED", async () => {
      await call("POST", CONFIGMAPS, { body: { metadata: { name: "w-sel", labels: { watched: "no" } } } });
      const watch = await openWatch(`${server.url}${CONFIGMAPS}?watch=true&resourceVersion=${server.resourceVersion()}&labelSelector=watched%3Dyes`);
      const label = (value: string) => call("PATCH", `${CONFIGMAPS}/w-sel`, { body: { metadata: { labels: { watched: value } } }, contentType: "application/merge-patch+json" });
      await label("yes");
      expect(await watch.next()).toMatchObject({ type: "ADDED", object: { metadata: { labels: { watched: "yes" } } } });
      await call("PATCH", `${CONFIGMAPS}/w-sel`, { body: { data: { k: "v" } }, contentType: "application/merge-patch+json" });
      expect(await watch.next()).toMatchObject({ type: "MODIFIED", object: { data: { k: "v" } } });
      await label("no");
      expect(await watch.next()).toMatchObject({ type: "DELETED", object: { metadata: { labels: { watched: "no" } } } });
      watch.close();
    });

    it("sends bookmarks when asked, ends after timeoutSeconds, and watches one object by its path", async () => {
      const watch = await openWatch(`${server.url}${CONFIGMAPS}?watch=true&resourceVersion=${server.resourceVersion()}&allowWatchBookmarks=true&timeoutSeconds=1`);
      server.watches.sendBookmarks();
      expect(await watch.next()).toEqual({ type: "BOOKMARK", object: { apiVersion: "v1", kind: "ConfigMap", metadata: { resourceVersion: server.resourceVersion() } } });
      expect(await watch.next(3000)).toBeUndefined(); // the server ended the stream

      await call("POST", CONFIGMAPS, { body: { metadata: { name: "w-one" } } });
      await call("POST", CONFIGMAPS, { body: { metadata: { name: "w-other" } } });
      const one = await openWatch(`${server.url}${CONFIGMAPS}/w-one?watch=true`);
      expect(await one.next()).toMatchObject({ type: "ADDED", object: { metadata: { name: "w-one" } } });
      await call("PATCH", `${CONFIGMAPS}/w-other`, { body: { data: { x: "1" } }, contentType: "application/merge-patch+json" });
      await call("PATCH", `${CONFIGMAPS}/w-one`, { body: { data: { x: "1" } }, contentType: "application/merge-patch+json" });
      expect(await one.next()).toMatchObject({ type: "MODIFIED", object: { metadata: { name: "w-one" } } });
      one.close();
    });

    it("streams Table rows to kubectl get -w", async () => {
      const watch = await openWatch(`${server.url}${SITES}?watch=true&resourceVersion=${server.resourceVersion()}`, TABLE_ACCEPT);
      expect(watch.headers.get("content-type")).toBe("application/json;as=Table;v=v1;g=meta.k8s.io");
      server.objects.create(hostedSite("watched-table"));
      const event = await watch.next();
      expect(event?.object.rows?.[0]?.cells.slice(0, 4)).toEqual(["watched-table", "watched-table.sites.example.com", "openatrium", "Basic"]);
      watch.close();
    });

    it("reports a too-old resourceVersion as a 410 ERROR event", async () => {
      const rv = server.resourceVersion();
      server.faults.expireWatchHistory();
      const watch = await openWatch(`${server.url}${CONFIGMAPS}?watch=true&resourceVersion=${rv}`);
      expect(watch.status).toBe(200);
      expect(await watch.next()).toMatchObject({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired", message: `too old resource version: ${rv} (${server.resourceVersion()})` } });
      expect(await watch.next()).toBeUndefined();
    });
  });

  describe("faults", () => {
    it("fails the next matching requests with the given status, then serves again", async () => {
      server.faults.failNext({ verb: "list", resource: "configmaps" }, { status: 500 }, 2);
      server.faults.failNext({ method: "GET", path: "/version" }, { status: 429, retryAfterSeconds: 2 });
      expect((await call("GET", CONFIGMAPS)).body).toMatchObject({ code: 500, reason: "InternalError", message: "injected 500 InternalError" });
      expect((await call("GET", `${CONFIGMAPS}/list-a`)).status).toBe(200); // a get, not a list
      expect((await call("GET", CONFIGMAPS)).status).toBe(500);
      expect((await call("GET", CONFIGMAPS)).status).toBe(200);
      const limited = await call("GET", "/version");
      expect([limited.status, limited.headers.get("retry-after"), limited.body.reason]).toEqual([429, "2", "TooManyRequests"]);
    });

    it("forces optimistic-lock conflicts and fails watches as ERROR events", async () => {
      server.faults.conflictNext();
      const conflicted = await call("PATCH", `${CONFIGMAPS}/list-a`, { body: { data: { a: "1" } }, contentType: "application/merge-patch+json" });
      expect(conflicted.body).toMatchObject({ code: 409, reason: "Conflict", message: 'Operation cannot be fulfilled on configmaps "list-a": the object has been modified; please apply your changes to the latest version and try again' });
      server.faults.failNext({ verb: "watch" }, { status: 410, reason: "Expired", message: "gone", asWatchEvent: true });
      const watch = await openWatch(`${server.url}${CONFIGMAPS}?watch=true`);
      expect(await watch.next()).toMatchObject({ type: "ERROR", object: { code: 410, reason: "Expired" } });
    });

    it("adds latency to matching requests", async () => {
      const remove = server.faults.addLatency(150, { path: "/version" });
      let started = Date.now();
      await call("GET", "/version");
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      remove();
      started = Date.now();
      await call("GET", "/version");
      expect(Date.now() - started).toBeLessThan(140);
    });

    it("drops open watches and makes the server unavailable and available again", async () => {
      const watch = await openWatch(`${server.url}${CONFIGMAPS}?watch=true&resourceVersion=${server.resourceVersion()}`);
      expect(server.faults.dropWatches()).toBeGreaterThanOrEqual(1);
      expect(await watch.next()).toBeUndefined();

      await server.faults.unavailable("refuse");
      // A pooled keep-alive connection may fail first ("other side closed"); new ones are refused.
      await expect(fetch(`${server.url}/version`)).rejects.toThrow("fetch failed");
      await expect(fetch(`${server.url}/version`)).rejects.toMatchObject({ cause: { code: "ECONNREFUSED" } });
      await server.faults.unavailable("503");
      expect((await call("GET", "/version")).body).toMatchObject({ code: 503, reason: "ServiceUnavailable" });
      await server.faults.unavailable("reset");
      await expect(fetch(`${server.url}/version`)).rejects.toThrow();
      await server.faults.available();
      expect((await call("GET", "/version")).status).toBe(200);
    });

    it("logs every request with its verb, resource and user agent", async () => {
      server.requests.clear();
      await fetch(`${server.url}${SITES}/dup`, { headers: { "user-agent": "reconciler/1.0" } });
      await call("DELETE", `${SITES}/dup`);
      expect(server.requests.all().map((r) => [r.verb, r.apiGroup, r.resource, r.namespace, r.name, r.status])).toEqual([
        ["get", GROUP, "hostedsites", NAMESPACE, "dup", 200],
        ["delete", GROUP, "hostedsites", NAMESPACE, "dup", 200],
      ]);
      expect(server.requests.find({ verb: "get" })[0]!.userAgent).toBe("reconciler/1.0");
      const next = server.requests.waitFor({ verb: "list", resource: "namespaces" });
      await call("GET", "/api/v1/namespaces");
      expect((await next).path).toBe("/api/v1/namespaces");
    });
  });
});
