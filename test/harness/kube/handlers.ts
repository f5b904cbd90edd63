// REST handlers for resource paths: list (with pagination), get, create, update, patch, delete,
// deletecollection and watch, with Table and PartialObjectMetadata representations.
import type { IncomingMessage, ServerResponse } from "node:http";
import * as yaml from "js-yaml";
import { parseFieldValidation, requireObject } from "./decode.ts";
import { isPlainObject } from "./fieldsets.ts";
import { TABLE_CONTENT_TYPE, representation } from "./media.ts";
import type { DeleteOptions, ObjectRegistry, WriteOptions } from "./registry.ts";
import type { RequestInfo } from "./request-info.ts";
import { type KubeObject, type ResourceType, apiVersionOf } from "./resources.ts";
import { PROTOBUF, decodeProtobuf } from "./protobuf.ts";
import { parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import { type ApiError, badRequest, methodNotAllowed, routeNotFound } from "./status.ts";
import { type IncludeObject, toTable } from "./table.ts";
import type { WatchHub } from "./watch.ts";

export interface HandlerContext {
  registry: ObjectRegistry;
  watches: WatchHub;
  watchTimeoutSeconds: number;
  expiredWatch: "event" | "status";
}

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(code, { "Content-Type": "application/json", "Cache-Control": "no-cache, private", ...headers });
  res.end(JSON.stringify(body));
}

export function sendError(res: ServerResponse, error: ApiError): void {
  const headers: Record<string, string> = {};
  if (error.details?.retryAfterSeconds !== undefined) headers["Retry-After"] = String(error.details.retryAfterSeconds);
  sendJson(res, error.code, error.toStatus(), headers);
}

/** The field manager the API server records when the request names none: the user agent's program name. */
function managerOf(info: RequestInfo, userAgent: string | undefined): string {
  const given = info.query.get("fieldManager");
  if (given) return given;
  return (userAgent ?? "unknown").split("/")[0]!.slice(0, 128) || "unknown";
}

function parseBody(body: Buffer, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.startsWith(PROTOBUF)) return decodeProtobuf(body);
  const text = body.toString("utf8");
  let parsed: unknown;
  try {
    parsed = contentType?.includes("yaml") ? yaml.load(text, { schema: yaml.CORE_SCHEMA }) : JSON.parse(text);
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message.split("\n")[0]}`);
  }
  return requireObject(parsed, text);
}

const NOT_ALLOWED = "the server does not allow this method on the requested resource";

interface ContinueToken {
  rv: string;
  start: string;
}

export function handleResource(ctx: HandlerContext, info: RequestInfo, req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const { registry } = ctx;
  const type = registry.resources.find(info.apiGroup, info.apiVersion, info.resource);
  if (!type) throw routeNotFound();
  const subresource = info.subresource;
  if (subresource !== "" && !(subresource === "status" && type.statusSubresource)) throw routeNotFound();
  // A namespace object's own name is in info.namespace too; cluster-scoped kinds have no namespaced paths.
  const namespace = type.namespaced ? info.namespace || undefined : undefined;
  if (!type.namespaced && info.namespace && type.resource !== "namespaces") throw routeNotFound();
  if (type.namespaced && info.name !== "" && namespace === undefined) throw routeNotFound();
  // The all-namespaces path of a namespaced kind only lists and watches.
  if (type.namespaced && namespace === undefined && info.verb !== "list" && info.verb !== "watch") throw methodNotAllowed(NOT_ALLOWED);

  const query = info.query;
  const writeOptions = (): WriteOptions => ({
    manager: managerOf(info, req.headers["user-agent"]),
    fieldValidation: parseFieldValidation(query.get("fieldValidation")),
    dryRun: query.getAll("dryRun").includes("All"),
    subresource,
  });
  const accept = req.headers.accept;
  const includeObject = (query.get("includeObject") ?? "Metadata") as IncludeObject;
  const respondObject = (code: number, object: KubeObject, warnings: string[] = []) => {
    const headers: Record<string, string[]> = warnings.length > 0 ? { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`) } : {};
    const wanted = representation(accept);
    if (wanted === "Table" && code === 200 && info.verb === "get") {
      const table = toTable([object], type.printerColumns, { resourceVersion: object.metadata.resourceVersion }, includeObject, registry.clock());
      return sendJson(res, code, table, { ...headers, "Content-Type": TABLE_CONTENT_TYPE });
    }
    if (wanted === "PartialObjectMetadata" && info.verb === "get") return sendJson(res, code, partial(object), headers);
    sendJson(res, code, object, headers);
  };

  if (info.subresource !== "" && (info.verb === "list" || info.verb === "create" || info.verb === "delete" || info.verb === "watch")) {
    throw methodNotAllowed(`${info.verb} is not supported on the ${subresource} subresource`);
  }
  switch (info.verb) {
    case "list":
      return list(ctx, type, namespace, info, accept, includeObject, res);
    case "watch":
      return watch(ctx, type, namespace, info, accept, includeObject, req, res);
    case "get":
      return respondObject(200, registry.get(type, namespace, info.name));
    case "create": {
      const result = registry.create(type, namespace, parseBody(body, req.headers["content-type"]), writeOptions());
      return respondObject(201, result.object, result.warnings);
    }
    case "update": {
      const result = registry.update(type, namespace, info.name, parseBody(body, req.headers["content-type"]), writeOptions());
      return respondObject(result.created ? 201 : 200, result.object, result.warnings);
    }
    case "patch": {
      const contentType = (req.headers["content-type"] ?? "").split(";")[0]!.trim();
      const result = registry.patch(type, namespace, info.name, contentType, body.toString("utf8"), {
        ...writeOptions(),
        force: query.get("force") === "true",
        managerGiven: Boolean(query.get("fieldManager")),
      });
      return respondObject(result.created ? 201 : 200, result.object, result.warnings);
    }
    case "delete": {
      const result = registry.delete(type, namespace, info.name, deleteOptions(body, query));
      return sendJson(res, 200, result.body);
    }
    case "deletecollection": {
      const options = deleteOptions(body, query);
      const selected = registry.list(type, namespace, parseLabelSelector(query.get("labelSelector")), selector(registry, type, query));
      const deleted = selected.map((o) => registry.delete(type, o.metadata.namespace, o.metadata.name!, options).body);
      return sendJson(res, 200, { apiVersion: apiVersionOf(type), kind: type.listKind, metadata: { resourceVersion: String(registry.store.currentRevision()) }, items: deleted });
    }
    default:
      throw methodNotAllowed(NOT_ALLOWED);
  }
}

function selector(registry: ObjectRegistry, type: ResourceType, query: URLSearchParams) {
  const fields = parseFieldSelector(query.get("fieldSelector"));
  registry.checkFieldSelector(type, fields);
  return fields;
}

function deleteOptions(body: Buffer, query: URLSearchParams): DeleteOptions {
  let parsed: Record<string, unknown> = {};
  if (body.toString("utf8").trim() !== "") {
    try {
      const value: unknown = JSON.parse(body.toString("utf8"));
      if (isPlainObject(value)) parsed = value;
    } catch {
      throw badRequest("couldn't get version/kind; json parse error: invalid DeleteOptions");
    }
  }
  const pre = isPlainObject(parsed.preconditions) ? parsed.preconditions : {};
  return {
    preconditions: {
      uid: typeof pre.uid === "string" ? pre.uid : undefined,
      resourceVersion: typeof pre.resourceVersion === "string" ? pre.resourceVersion : undefined,
    },
    propagationPolicy: (typeof parsed.propagationPolicy === "string" ? parsed.propagationPolicy : query.get("propagationPolicy")) ?? undefined,
    dryRun: query.getAll("dryRun").includes("All") || (Array.isArray(parsed.dryRun) && parsed.dryRun.includes("All")),
  };
}

const partial = (o: KubeObject) => ({ kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata });

function list(
  ctx: HandlerContext,
  type: ResourceType,
  namespace: string | undefined,
  info: RequestInfo,
  accept: string | undefined,
  includeObject: IncludeObject,
  res: ServerResponse,
): void {
  const { registry } = ctx;
  const query = info.query;
  let items = registry.list(type, namespace, parseLabelSelector(query.get("labelSelector")), selector(registry, type, query));
  let resourceVersion = String(registry.store.currentRevision());
  const token = query.get("continue");
  if (token) {
    let parsed: ContinueToken;
    try {
      parsed = JSON.parse(Buffer.from(token, "base64url").toString()) as ContinueToken;
    } catch {
      throw badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
    }
    resourceVersion = parsed.rv;
    items = items.filter((o) => keyOf(o) > parsed.start);
  }
  const limit = Number(query.get("limit") ?? 0);
  const metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion };
  if (limit > 0 && items.length > limit) {
    metadata.remainingItemCount = items.length - limit;
    items = items.slice(0, limit);
    metadata.continue = Buffer.from(JSON.stringify({ rv: resourceVersion, start: keyOf(items.at(-1)!) })).toString("base64url");
  }
  const wanted = representation(accept);
  if (wanted === "Table") {
    return sendJson(res, 200, toTable(items, type.printerColumns, metadata, includeObject, registry.clock()), { "Content-Type": TABLE_CONTENT_TYPE });
  }
  if (wanted === "PartialObjectMetadata") {
    return sendJson(res, 200, { kind: "PartialObjectMetadataList", apiVersion: "meta.k8s.io/v1", metadata, items: items.map(partial) });
  }
  // Typed lists of built-in kinds carry apiVersion and kind on the list only.
  const shown = type.custom ? items : items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
  sendJson(res, 200, { apiVersion: apiVersionOf(type), kind: type.listKind, metadata, items: shown });
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;

function watch(
  ctx: HandlerContext,
  type: ResourceType,
  namespace: string | undefined,
  info: RequestInfo,
  accept: string | undefined,
  includeObject: IncludeObject,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const { registry } = ctx;
  const query = info.query;
  const labels = parseLabelSelector(query.get("labelSelector"));
  const fields = selector(registry, type, query);
  // Watching one object by its path is a watch on the collection with a name selector.
  if (info.name !== "") fields.push({ field: "metadata.name", op: "=", value: info.name });
  const wanted = representation(accept);
  const timeoutSeconds = Number(query.get("timeoutSeconds") ?? ctx.watchTimeoutSeconds);
  ctx.watches.serve(
    req,
    res,
    {
      storage: type.storage,
      namespace,
      render: (stored) => registry.external(type, stored),
      matches: (object) => registry.matches(type, object, labels, fields),
      encode:
        wanted === "Table"
          ? (o) => toTable([o], type.printerColumns, { resourceVersion: o.metadata.resourceVersion }, includeObject, registry.clock())
          : wanted === "PartialObjectMetadata"
            ? partial
            : (o) => o,
      contentType: wanted === "Table" ? TABLE_CONTENT_TYPE : "application/json",
      resourceVersion: query.get("resourceVersion"),
      sendInitialEvents: query.get("sendInitialEvents") === "true",
      allowBookmarks: query.get("allowWatchBookmarks") === "true",
      bookmarkType: { apiVersion: apiVersionOf(type), kind: type.kind },
      timeoutMs: (timeoutSeconds > 0 ? timeoutSeconds : ctx.watchTimeoutSeconds) * 1000,
      expiredAs: ctx.expiredWatch,
    },
    (error: ApiError) => sendError(res, error),
  );
}
