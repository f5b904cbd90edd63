// `kind: Status` error bodies with the API server's codes, reasons and message wording, so
// clients take the same branches (retry on Conflict, relist on Expired) as against a real cluster.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** The reason the API server gives for each status code when nothing more specific applies. */
export const REASON_FOR_CODE: Readonly<Record<number, string>> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  406: "NotAcceptable",
  409: "Conflict",
  410: "Gone",
  413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;

  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): Status {
    return failureStatus(this.code, this.reason, this.message, this.details);
  }
}

export function failureStatus(code: number, reason: string, message: string, details?: StatusDetails): Status {
  const status: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, code };
  // The real server omits an empty reason (errors that are not API errors) and empty details.
  if (reason !== "") status.reason = reason;
  if (details !== undefined) status.details = details;
  return status;
}

/** `hostedsites.hosting.openatria.com`, or just `configmaps` for the core group. */
function groupResource(group: string, resource: string): string {
  return group === "" ? resource : `${resource}.${group}`;
}

/** `HostedSite.hosting.openatria.com`, or just `ConfigMap` for the core group. */
function groupKind(group: string, kind: string): string {
  return group === "" ? kind : `${kind}.${group}`;
}

export const notFound = (group: string, resource: string, name: string) =>
  new ApiError(404, "NotFound", `${groupResource(group, resource)} "${name}" not found`, { name, group, kind: resource });

export const alreadyExists = (group: string, resource: string, name: string) =>
  new ApiError(409, "AlreadyExists", `${groupResource(group, resource)} "${name}" already exists`, { name, group, kind: resource });

export const conflict = (group: string, resource: string, name: string, why: string) =>
  new ApiError(409, "Conflict", `Operation cannot be fulfilled on ${groupResource(group, resource)} "${name}": ${why}`, {
    name,
    group,
    kind: resource,
  });

export const OBJECT_MODIFIED = "the object has been modified; please apply your changes to the latest version and try again";

export const badRequest = (message: string) => new ApiError(400, "BadRequest", message);

export const forbidden = (group: string, resource: string, name: string, why: string) =>
  new ApiError(403, "Forbidden", `${groupResource(group, resource)} "${name}" is forbidden: ${why}`, { name, group, kind: resource });

export const methodNotAllowed = (message: string) => new ApiError(405, "MethodNotAllowed", message);

export const unsupportedMediaType = (accepted: readonly string[]) =>
  new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`);

export const expired = (message: string) => new ApiError(410, "Expired", message);

export const internalError = (message: string) =>
  new ApiError(500, "InternalError", `Internal error occurred: ${message}`, { causes: [{ message }] });

export const routeNotFound = () => new ApiError(404, "NotFound", "the server could not find the requested resource", {});

/** A field problem, worded like k8s.io/apimachinery/pkg/util/validation/field. */
export interface FieldCause {
  field: string;
  reason: string;
  /** The message without the `field: ` prefix. */
  body: string;
}

/** 422 `Kind.group "name" is invalid: field: message` (several are bracketed, comma separated). */
export function invalid(group: string, kind: string, name: string, causes: readonly FieldCause[]): ApiError {
  const texts = causes.map((c) => (c.field === "" ? c.body : `${c.field}: ${c.body}`));
  const joined = texts.length === 1 ? texts[0] : `[${texts.join(", ")}]`;
  return new ApiError(422, "Invalid", `${groupKind(group, kind)} "${name}" is invalid: ${joined}`, {
    name,
    group,
    kind,
    causes: causes.map((c) => ({ reason: c.reason, message: c.body, field: c.field })),
  });
}

/** Go's %v of a value in `Invalid value: ...` messages: strings quoted, numbers bare. */
export function goValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return "null";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(JSON.stringify(value));
}
