// API discovery documents, legacy (APIVersions, APIGroupList, APIResourceList) and aggregated
// (apidiscovery.k8s.io APIGroupDiscoveryList), built from the currently served resource types.
import type { ResourceRegistry, ResourceType } from "./resources.ts";

const ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const STATUS_VERBS = ["get", "patch", "update"];

const verbsOf = (t: ResourceType) => (t.resource === "namespaces" ? ALL_VERBS.filter((v) => v !== "deletecollection") : ALL_VERBS);

export function versionInfo(kubernetesVersion: string): Record<string, string> {
  const [major = "1", minor = "0"] = kubernetesVersion.split(".");
  return {
    major,
    minor,
    gitVersion: `v${kubernetesVersion}`,
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: "2025-01-01T00:00:00Z",
    goVersion: "go1.23.0",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

export function apiVersions(serverAddress: string) {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}

function apiGroup(name: string, versions: readonly string[]) {
  const gv = (version: string) => ({ groupVersion: `${name}/${version}`, version });
  return { name, versions: versions.map(gv), preferredVersion: gv(versions[0]!) };
}

export function apiGroupList(resources: ResourceRegistry) {
  const groups = resources.groups().filter((g) => g.group !== "");
  return { kind: "APIGroupList", apiVersion: "v1", groups: groups.map((g) => apiGroup(g.group, g.versions)) };
}

export function apiGroupDocument(resources: ResourceRegistry, group: string) {
  const found = resources.groups().find((g) => g.group === group && group !== "");
  return found && { kind: "APIGroup", apiVersion: "v1", ...apiGroup(found.group, found.versions) };
}

export function apiResourceList(resources: ResourceRegistry, group: string, version: string) {
  const types = resources.inGroupVersion(group, version);
  if (types.length === 0) return undefined;
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group === "" ? version : `${group}/${version}`,
    resources: types.flatMap((t) => {
      const main = {
        name: t.resource,
        singularName: t.singular,
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: verbsOf(t),
        ...(t.shortNames.length > 0 ? { shortNames: t.shortNames } : {}),
        ...(t.categories.length > 0 ? { categories: t.categories } : {}),
      };
      const status = { name: `${t.resource}/status`, singularName: "", namespaced: t.namespaced, kind: t.kind, verbs: STATUS_VERBS };
      return t.statusSubresource ? [main, status] : [main];
    }),
  };
}

/** `/api` (core only) or `/apis` (every other group) as an APIGroupDiscoveryList. */
export function aggregatedDiscovery(resources: ResourceRegistry, core: boolean, version: "v2" | "v2beta1") {
  const groups = resources.groups().filter((g) => (g.group === "") === core);
  return {
    kind: "APIGroupDiscoveryList",
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: { ...(g.group === "" ? {} : { name: g.group }), creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        resources: resources.inGroupVersion(g.group, v).map((t) => {
          const responseKind = { group: t.group, version: t.version, kind: t.kind };
          return {
            resource: t.resource,
            responseKind,
            scope: t.namespaced ? "Namespaced" : "Cluster",
            singularResource: t.singular,
            verbs: verbsOf(t),
            ...(t.shortNames.length > 0 ? { shortNames: t.shortNames } : {}),
            ...(t.categories.length > 0 ? { categories: t.categories } : {}),
            ...(t.statusSubresource ? { subresources: [{ subresource: "status", responseKind, verbs: STATUS_VERBS }] } : {}),
          };
        }),
        freshness: "Current",
      })),
    })),
  };
}

export const aggregatedContentType = (version: "v2" | "v2beta1") => `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
