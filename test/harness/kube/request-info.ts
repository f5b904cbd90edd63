// Splits a request into the attributes RBAC and audit see (k8s.io/apiserver RequestInfoFactory):
// verb, API group and version, resource, subresource, namespace and name.

export interface RequestInfo {
  method: string;
  path: string;
  query: URLSearchParams;
  /** get, list, watch, create, update, patch, delete, deletecollection; for non-resource paths, the lowercase method. */
  verb: string;
  isResourceRequest: boolean;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

function isWatch(query: URLSearchParams): boolean {
  const watch = query.get("watch");
  return watch === "true" || watch === "1";
}

export function requestInfo(method: string, url: URL): RequestInfo {
  const info: RequestInfo = {
    method,
    path: url.pathname,
    query: url.searchParams,
    verb: method.toLowerCase(),
    isResourceRequest: false,
    apiGroup: "",
    apiVersion: "",
    resource: "",
    subresource: "",
    namespace: "",
    name: "",
  };
  const parts = url.pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 2) {
    info.apiVersion = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 3) {
    info.apiGroup = parts[1]!;
    info.apiVersion = parts[2]!;
    rest = parts.slice(3);
  } else {
    return info;
  }
  if (rest.length === 0) return info;
  let legacyWatch = false;
  if (rest[0] === "watch") {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  if (rest[0] === "namespaces" && rest.length >= 2) {
    info.namespace = rest[1]!;
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) rest = rest.slice(2);
  }
  info.isResourceRequest = true;
  info.resource = rest[0] ?? "";
  info.name = rest[1] ?? "";
  info.subresource = rest.slice(2).join("/");
  switch (method) {
    case "GET":
    case "HEAD":
      info.verb = legacyWatch || isWatch(url.searchParams) ? "watch" : info.name === "" ? "list" : "get";
      break;
    case "POST":
      info.verb = "create";
      break;
    case "PUT":
      info.verb = "update";
      break;
    case "PATCH":
      info.verb = "patch";
      break;
    case "DELETE":
      info.verb = info.name === "" ? "deletecollection" : "delete";
      break;
  }
  return info;
}
