// The decode and validate steps every write goes through: unknown fields pruned and reported per
// `fieldValidation` (Strict, Warn, Ignore), schema defaults applied, then ObjectMeta, the CRD
// schema and kind-specific rules checked, with the API server's messages.
import { applyDefaults, pruneUnknownFields, validateAgainstSchema } from "./openapi.ts";
import { type KubeObject, type ResourceType, apiVersionOf } from "./resources.ts";
import { ApiError, type FieldCause, badRequest, goValue, invalid } from "./status.ts";
import { isPlainObject } from "./fieldsets.ts";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

export function parseFieldValidation(value: string | null): FieldValidation {
  // The server's default is Warn; kubectl asks for Strict.
  if (value === null || value === "" || value === "Warn") return "Warn";
  if (value === "Strict" || value === "Ignore") return value;
  throw new ApiError(422, "Invalid", `PatchOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: ${goValue(value)}: supported values: "Ignore", "Warn", "Strict"`);
}

export interface Decoded {
  object: KubeObject;
  /** Paths of the fields the schema does not declare, already removed. */
  unknownFields: string[];
}

/** Parses a request body (JSON, or YAML for apply) into an object, or 400 like the API server. */
export function requireObject(body: unknown, raw: string): Record<string, unknown> {
  if (!isPlainObject(body)) throw badRequest(`couldn't get version/kind; json parse error: cannot unmarshal ${Array.isArray(body) ? "array" : typeof body} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }: ${raw.slice(0, 30)}`);
  return body;
}

/** The object as the API server decodes it: TypeMeta checked, unknown fields pruned, defaults applied. */
export function decode(type: ResourceType, body: Record<string, unknown>): Decoded {
  const object = structuredClone(body) as KubeObject;
  const expected = apiVersionOf(type);
  if (type.custom && (typeof object.kind !== "string" || object.kind === "")) {
    throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
  }
  object.apiVersion ??= expected;
  object.kind ??= type.kind;
  if (object.apiVersion !== expected) {
    throw badRequest(`the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${expected})`);
  }
  if (object.kind !== type.kind) {
    throw badRequest(`the kind in the data (${String(object.kind)}) does not match the expected kind (${type.kind})`);
  }
  if (!isPlainObject(object.metadata)) object.metadata = {};
  const unknownFields = pruneUnknownFields(object, type.schema);
  // Go decoding turns null metadata fields (`creationTimestamp: null` from kubectl) into zero values.
  for (const [key, value] of Object.entries(object.metadata)) if (value === null) delete object.metadata[key];
  if (type.custom) applyDefaults(object, type.schema);
  else {
    const typeErrors = validateAgainstSchema(withoutNulls(object), type.schema);
    if (typeErrors.length > 0) {
      const e = typeErrors[0]!;
      throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: ${e.message}`);
    }
  }
  return { object, unknownFields };
}

/** How a decode's unknown fields end a create or update: an error, warnings, or nothing. */
export function checkUnknownFields(type: ResourceType, decoded: Decoded, mode: FieldValidation, asPatch?: { patched: unknown }): string[] {
  if (decoded.unknownFields.length === 0 || mode === "Ignore") return [];
  const messages = decoded.unknownFields.map((f) => `unknown field "${f}"`);
  if (mode === "Warn") return messages;
  const strict = `strict decoding error: ${messages.join(", ")}`;
  if (asPatch) {
    throw invalid("", "", "", [{ field: "patch", reason: "FieldValueInvalid", body: `Invalid value: ${JSON.stringify(JSON.stringify(asPatch.patched))}: ${strict}` }]);
  }
  throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: ${strict}`);
}

/** Go decodes null into a zero value: built-in kinds accept nulls anywhere. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
}

const LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN = new RegExp(`^${LABEL}(\\.${LABEL})*$`);
const DNS1123_LABEL = new RegExp(`^${LABEL}$`);
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const QUALIFIED_MESSAGE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MESSAGE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

const invalidValue = (field: string, value: unknown, detail: string): FieldCause => ({
  field,
  reason: "FieldValueInvalid",
  body: `Invalid value: ${goValue(value)}: ${detail}`,
});

/** Problems of a DNS-1123 subdomain (or label, for namespaces) object name. */
function nameProblems(name: string, field: string, dnsLabel: boolean): FieldCause[] {
  const max = dnsLabel ? 63 : 253;
  const problems: FieldCause[] = [];
  if (name.length > max) problems.push(invalidValue(field, name, `must be no more than ${max} characters`));
  if (!(dnsLabel ? DNS1123_LABEL : DNS1123_SUBDOMAIN).test(name)) problems.push(invalidValue(field, name, dnsLabel ? LABEL_MESSAGE : SUBDOMAIN_MESSAGE));
  return problems;
}

function qualifiedNameProblems(key: string, field: string): FieldCause[] {
  const slash = key.lastIndexOf("/");
  const [prefix, name] = slash === -1 ? ["", key] : [key.slice(0, slash), key.slice(slash + 1)];
  const problems: FieldCause[] = [];
  if (slash !== -1 && (prefix === "" || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) {
    problems.push(invalidValue(field, key, `prefix part ${SUBDOMAIN_MESSAGE}`));
  }
  if (name.length > 63) problems.push(invalidValue(field, key, "name part must be no more than 63 characters"));
  if (!QUALIFIED_NAME_PART.test(name)) problems.push(invalidValue(field, key, QUALIFIED_MESSAGE));
  return problems;
}

/** ObjectMeta rules of the API server (apimachinery ValidateObjectMeta), plus update immutability. */
function metadataProblems(type: ResourceType, object: KubeObject, old: KubeObject | undefined): FieldCause[] {
  const meta = object.metadata;
  const problems: FieldCause[] = [];
  if (!meta.name) {
    problems.push({ field: "metadata.name", reason: "FieldValueRequired", body: "Required value: name or generateName is required" });
  } else {
    problems.push(...nameProblems(meta.name, "metadata.name", type.resource === "namespaces"));
  }
  for (const [key, value] of Object.entries(meta.labels ?? {})) {
    problems.push(...qualifiedNameProblems(key, "metadata.labels"));
    if (typeof value !== "string" || value.length > 63) problems.push(invalidValue("metadata.labels", value, "must be no more than 63 characters"));
    else if (!LABEL_VALUE.test(value)) problems.push(invalidValue("metadata.labels", value, LABEL_VALUE_MESSAGE));
  }
  let annotationBytes = 0;
  for (const [key, value] of Object.entries(meta.annotations ?? {})) {
    problems.push(...qualifiedNameProblems(key.toLowerCase(), "metadata.annotations"));
    annotationBytes += Buffer.byteLength(key) + Buffer.byteLength(String(value));
  }
  if (annotationBytes > 262_144) problems.push({ field: "metadata.annotations", reason: "FieldValueTooLong", body: "Too long: must have at most 262144 bytes" });
  (meta.finalizers ?? []).forEach((f, i) => problems.push(...qualifiedNameProblems(f, `metadata.finalizers[${i}]`)));
  const owners = meta.ownerReferences ?? [];
  owners.forEach((ref, i) => {
    for (const key of ["apiVersion", "kind", "name", "uid"] as const) {
      if (!ref[key]) problems.push({ field: `metadata.ownerReferences[${i}].${key}`, reason: "FieldValueInvalid", body: `Invalid value: "": ${key} must not be empty` });
    }
  });
  if (owners.filter((r) => r.controller === true).length > 1) {
    problems.push(invalidValue("metadata.ownerReferences", owners.filter((r) => r.controller).map((r) => r.name).join(", "), "Only one reference can have Controller set to true"));
  }
  if (old) {
    if (old.metadata.deletionTimestamp !== undefined) {
      const added = (meta.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
      if (added.length > 0) {
        problems.push({
          field: "metadata.finalizers",
          reason: "FieldValueForbidden",
          body: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(", ")}}`,
        });
      }
    }
  }
  return problems;
}

/** 422 when ObjectMeta, the CRD schema or the kind's own rules refuse the object. */
export function validate(type: ResourceType, object: KubeObject, old: KubeObject | undefined): void {
  const problems = metadataProblems(type, object, old);
  if (type.custom) {
    const rest: Record<string, unknown> = { ...object };
    delete rest.metadata;
    for (const e of validateAgainstSchema(rest, type.schema)) {
      const prefix = `${e.field}: `;
      problems.push({ field: e.field, reason: e.reason, body: e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message });
    }
  }
  problems.push(...(type.validate?.(object, old) ?? []));
  if (problems.length > 0) throw invalid(type.group, type.kind, object.metadata.name ?? "", problems);
}
