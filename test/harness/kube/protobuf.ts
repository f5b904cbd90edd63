// Request bodies in Kubernetes protobuf: kubectl's typed generators (`kubectl create namespace`,
// `create secret`, `create configmap`) send `application/vnd.kubernetes.protobuf` and do not fall
// back to JSON. Decoded here into the JSON the rest of the server works with, for those kinds.
import { badRequest, unsupportedMediaType } from "./status.ts";

export const PROTOBUF = "application/vnd.kubernetes.protobuf";
const MAGIC = Buffer.from("k8s\0", "latin1");

type FieldType = "string" | "bytes" | "int" | "bool" | "time" | "stringMap" | "bytesMap" | Message;
interface Field {
  name: string;
  type: FieldType;
  repeated?: boolean;
}
type Message = { [fieldNumber: number]: Field };

const str = (name: string): Field => ({ name, type: "string" });

// Field numbers from k8s.io/api core/v1 and k8s.io/apimachinery meta/v1 generated.proto.
const OWNER_REFERENCE: Message = {
  1: str("kind"),
  3: str("name"),
  4: str("uid"),
  5: str("apiVersion"),
  6: { name: "controller", type: "bool" },
  7: { name: "blockOwnerDeletion", type: "bool" },
};
const OBJECT_META: Message = {
  1: str("name"),
  2: str("generateName"),
  3: str("namespace"),
  5: str("uid"),
  6: str("resourceVersion"),
  7: { name: "generation", type: "int" },
  8: { name: "creationTimestamp", type: "time" },
  10: { name: "deletionGracePeriodSeconds", type: "int" },
  11: { name: "labels", type: "stringMap" },
  12: { name: "annotations", type: "stringMap" },
  13: { name: "ownerReferences", type: OWNER_REFERENCE, repeated: true },
  14: { name: "finalizers", type: "string", repeated: true },
};
const KINDS: Record<string, Message> = {
  "v1/Namespace": {
    1: { name: "metadata", type: OBJECT_META },
    2: { name: "spec", type: { 1: { name: "finalizers", type: "string", repeated: true } } },
    3: { name: "status", type: { 1: str("phase") } },
  },
  "v1/Secret": {
    1: { name: "metadata", type: OBJECT_META },
    2: { name: "data", type: "bytesMap" },
    3: str("type"),
    4: { name: "stringData", type: "stringMap" },
    5: { name: "immutable", type: "bool" },
  },
  "v1/ConfigMap": {
    1: { name: "metadata", type: OBJECT_META },
    2: { name: "data", type: "stringMap" },
    3: { name: "binaryData", type: "bytesMap" },
    4: { name: "immutable", type: "bool" },
  },
};

/** The protobuf kinds decoded here, for the 415 message of the others. */
const PROTOBUF_KINDS = Object.keys(KINDS);

interface RawField {
  number: number;
  wire: number;
  varint?: bigint;
  bytes?: Buffer;
}

function readVarint(buf: Buffer, pos: { at: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos.at >= buf.length) throw badRequest("protobuf: unexpected end of data");
    const byte = buf[pos.at++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7n;
  }
}

function readFields(buf: Buffer): RawField[] {
  const fields: RawField[] = [];
  const pos = { at: 0 };
  while (pos.at < buf.length) {
    const tag = Number(readVarint(buf, pos));
    const field: RawField = { number: tag >>> 3, wire: tag & 7 };
    if (field.wire === 0) field.varint = readVarint(buf, pos);
    else if (field.wire === 2) {
      const length = Number(readVarint(buf, pos));
      field.bytes = buf.subarray(pos.at, pos.at + length);
      pos.at += length;
    } else if (field.wire === 1) pos.at += 8;
    else if (field.wire === 5) pos.at += 4;
    else throw badRequest(`protobuf: unsupported wire type ${field.wire}`);
    fields.push(field);
  }
  return fields;
}

/** Decodes a message into JSON the way Go's omitempty would print it: zero scalars left out. */
function decodeMessage(buf: Buffer, message: Message): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const raw of readFields(buf)) {
    const field = message[raw.number];
    if (!field) continue;
    const value = decodeValue(raw, field.type);
    if (field.type === "stringMap" || field.type === "bytesMap") {
      const [key, entry] = value as [string, unknown];
      out[field.name] = { ...(out[field.name] as Record<string, unknown> | undefined), [key]: entry };
    } else if (field.repeated) {
      out[field.name] = [...((out[field.name] as unknown[] | undefined) ?? []), value];
    } else if (value !== undefined && value !== "" && value !== 0 && value !== false) {
      out[field.name] = value;
    }
  }
  return out;
}

function decodeValue(raw: RawField, type: FieldType): unknown {
  const bytes = raw.bytes ?? Buffer.alloc(0);
  switch (type) {
    case "string":
      return bytes.toString("utf8");
    case "bytes":
      return bytes.toString("base64");
    case "int":
      return Number(BigInt.asIntN(64, raw.varint ?? 0n));
    case "bool":
      return raw.varint === 1n;
    case "time": {
      const t = decodeMessage(bytes, { 1: { name: "seconds", type: "int" }, 2: { name: "nanos", type: "int" } });
      const seconds = typeof t.seconds === "number" ? t.seconds : 0;
      return seconds === 0 ? undefined : new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    }
    case "stringMap":
    case "bytesMap": {
      const entry = decodeMessage(bytes, { 1: str("key"), 2: { name: "value", type: type === "stringMap" ? "string" : "bytes" } });
      return [entry.key ?? "", entry.value ?? ""];
    }
    default:
      return decodeMessage(bytes, type);
  }
}

/** Decodes a `k8s\0` + runtime.Unknown envelope; 415 for kinds this server has no protobuf schema for. */
export function decodeProtobuf(body: Buffer): Record<string, unknown> {
  if (!body.subarray(0, 4).equals(MAGIC)) throw badRequest("provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]");
  const unknown = decodeMessage(body.subarray(4), {
    1: { name: "typeMeta", type: { 1: str("apiVersion"), 2: str("kind") } },
    2: { name: "raw", type: "bytes" },
  });
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const schema = KINDS[`${typeMeta.apiVersion}/${typeMeta.kind}`];
  if (!schema) throw unsupportedMediaType(["application/json", "application/yaml", `${PROTOBUF} (${PROTOBUF_KINDS.join(", ")})`]);
  const object = decodeMessage(Buffer.from(typeof unknown.raw === "string" ? unknown.raw : "", "base64"), schema);
  return { apiVersion: typeMeta.apiVersion, kind: typeMeta.kind, ...object, metadata: object.metadata ?? {} };
}
