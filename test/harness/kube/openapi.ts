// Validation, pruning and defaulting of an object against a CRD's structural OpenAPI v3 schema,
// with the API server's field paths and message wording. CEL rules (x-kubernetes-validations)
// are not evaluated.
export type Schema = {
  type?: string;
  description?: string;
  nullable?: boolean;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-map-type"?: "atomic" | "granular";
};

export interface FieldError {
  /** `spec.features[2]` */
  field: string;
  /** Status cause reason, as the API server reports it. */
  reason: "FieldValueRequired" | "FieldValueInvalid" | "FieldValueNotSupported" | "FieldValueDuplicate" | "FieldValueTooLong" | "FieldValueTooMany" | "FieldValueTypeInvalid" | "FieldValueUnknown";
  message: string;
}

const patternCache = new Map<string, RegExp>();

export function validateAgainstSchema(value: unknown, schema: Schema, path = ""): FieldError[] {
  const errors: FieldError[] = [];
  check(value, schema, path, errors);
  return errors;
}

function check(value: unknown, schema: Schema, path: string, errors: FieldError[]): void {
  const quoted = () => JSON.stringify(value);
  if (value === null && schema.nullable) return;
  if (value === null || value === undefined) {
    errors.push({ field: path, reason: "FieldValueTypeInvalid", message: `${path}: Invalid value: "null": ${path} in body must be of type ${schema.type}: "null"` });
    return;
  }
  const actual = Array.isArray(value) ? "array" : Number.isInteger(value) ? "integer" : typeof value;
  const typeOk =
    schema.type === undefined ||
    schema.type === actual ||
    (schema.type === "number" && actual === "integer") ||
    (schema.type === "object" && actual === "object");
  if (!typeOk) {
    errors.push({
      field: path,
      reason: "FieldValueTypeInvalid",
      message: `${path}: Invalid value: "${actual}": ${path} in body must be of type ${schema.type}: "${actual}"`,
    });
    return;
  }
  if (schema.enum && !schema.enum.includes(value)) {
    errors.push({
      field: path,
      reason: "FieldValueNotSupported",
      message: `${path}: Unsupported value: ${quoted()}: supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`,
    });
  }
  if (typeof value === "string") checkString(value, schema, path, errors);
  else if (typeof value === "number") checkNumber(value, schema, path, errors);
  else if (Array.isArray(value)) checkArray(value, schema, path, errors);
  else if (typeof value === "object") checkObject(value as Record<string, unknown>, schema, path, errors);
}

function checkString(value: string, schema: Schema, path: string, errors: FieldError[]): void {
  const length = [...value].length; // the API server counts characters, not UTF-16 units
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    errors.push({ field: path, reason: "FieldValueTooLong", message: `${path}: Too long: may not be more than ${schema.maxLength} bytes` });
    return; // like the API server: no pattern match on an over-long value
  }
  if (schema.minLength !== undefined && length < schema.minLength) {
    errors.push({ field: path, reason: "FieldValueInvalid", message: `${path}: Invalid value: "${value}": ${path} in body should be at least ${schema.minLength} chars long` });
  }
  if (schema.pattern !== undefined) {
    let re = patternCache.get(schema.pattern);
    if (re === undefined) patternCache.set(schema.pattern, (re = new RegExp(schema.pattern, "u")));
    if (!re.test(value)) {
      errors.push({ field: path, reason: "FieldValueInvalid", message: `${path}: Invalid value: ${JSON.stringify(value)}: ${path} in body should match '${schema.pattern}'` });
    }
  }
  if (schema.format === "date-time" && !isDateTime(value)) {
    errors.push({ field: path, reason: "FieldValueInvalid", message: `${path}: Invalid value: ${JSON.stringify(value)}: ${path} in body must be of type date-time` });
  }
}

function checkNumber(value: number, schema: Schema, path: string, errors: FieldError[]): void {
  if (schema.minimum !== undefined && value < schema.minimum) {
    errors.push({ field: path, reason: "FieldValueInvalid", message: `${path}: Invalid value: ${value}: ${path} in body should be greater than or equal to ${schema.minimum}` });
  }
  if (schema.maximum !== undefined && value > schema.maximum) {
    errors.push({ field: path, reason: "FieldValueInvalid", message: `${path}: Invalid value: ${value}: ${path} in body should be less than or equal to ${schema.maximum}` });
  }
}

function checkArray(value: unknown[], schema: Schema, path: string, errors: FieldError[]): void {
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    errors.push({ field: path, reason: "FieldValueTooMany", message: `${path}: Too many: ${value.length}: must have at most ${schema.maxItems} items` });
    return;
  }
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    errors.push({ field: path, reason: "FieldValueInvalid", message: `${path}: Invalid value: ${value.length}: ${path} in body should have at least ${schema.minItems} items` });
  }
  const listType = schema["x-kubernetes-list-type"];
  const keys = schema["x-kubernetes-list-map-keys"] ?? [];
  const seen = new Set<string>();
  value.forEach((item, i) => {
    const itemPath = `${path}[${i}]`;
    if (schema.items) check(item, schema.items, itemPath, errors);
    if (listType === "set" || listType === "map") {
      const key = listType === "set" ? JSON.stringify(item) : JSON.stringify(keys.map((k) => (item as Record<string, unknown> | null)?.[k]));
      if (seen.has(key)) errors.push({ field: itemPath, reason: "FieldValueDuplicate", message: `${itemPath}: Duplicate value: ${key}` });
      seen.add(key);
    }
  });
}

function checkObject(value: Record<string, unknown>, schema: Schema, path: string, errors: FieldError[]): void {
  const join = (key: string) => (path === "" ? key : `${path}.${key}`);
  for (const key of schema.required ?? []) {
    if (!(key in value)) errors.push({ field: join(key), reason: "FieldValueRequired", message: `${join(key)}: Required value` });
  }
  for (const [key, child] of Object.entries(value)) {
    const propSchema = schema.properties?.[key];
    if (propSchema) check(child, propSchema, join(key), errors);
    else if (typeof schema.additionalProperties === "object") check(child, schema.additionalProperties, join(key), errors);
    else if (schema.properties && !schema["x-kubernetes-preserve-unknown-fields"]) {
      errors.push({ field: join(key), reason: "FieldValueUnknown", message: `unknown field "${join(key)}"` });
    }
  }
}

/** RFC 3339 with a real calendar date, as Go's time.Parse(time.RFC3339) accepts it. */
function isDateTime(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && h < 24 && mi < 60 && s < 61;
}

/**
 * Removes the fields the schema does not declare, like the API server's structural pruning,
 * and returns their paths (`spec.foo`, `spec.list[0].bar`) for strict field validation.
 */
export function pruneUnknownFields(value: unknown, schema: Schema, path = ""): string[] {
  const pruned: string[] = [];
  prune(value, schema, path, pruned);
  return pruned;
}

function prune(value: unknown, schema: Schema, path: string, pruned: string[]): void {
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => prune(item, schema.items!, `${path}[${i}]`, pruned));
    return;
  }
  if (!isObject(value)) return;
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true || schema.additionalProperties === true;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === "" ? key : `${path}.${key}`;
    const declared = schema.properties?.[key] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
    if (declared) prune(child, declared, childPath, pruned);
    else if (!preserve) {
      delete value[key];
      pruned.push(childPath);
    }
  }
}

/**
 * Fills in the schema's `default`s where a field is absent, and drops nulls from fields that are
 * not nullable (defaulting them when they have a default), as the API server does on decode.
 */
export function applyDefaults(value: unknown, schema: Schema): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) applyDefaults(item, schema.items);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (value[key] === null && !prop.nullable) {
      if (prop.default === undefined) delete value[key];
      else value[key] = structuredClone(prop.default);
    } else if (!(key in value) && prop.default !== undefined) {
      value[key] = structuredClone(prop.default);
    }
    if (value[key] !== undefined) applyDefaults(value[key], prop);
  }
  if (typeof schema.additionalProperties === "object") {
    for (const [key, child] of Object.entries(value)) {
      if (!schema.properties?.[key]) applyDefaults(child, schema.additionalProperties);
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
