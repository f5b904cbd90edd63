// Structural schemas of ObjectMeta and of the built-in kinds the fake serves. They drive unknown
// field detection, managedFields granularity (list types) and the OpenAPI documents; they are
// the subset of the real types an operator uses, not complete copies.
import type { Schema } from "./openapi.ts";

const string: Schema = { type: "string" };
const integer: Schema = { type: "integer" };
const boolean: Schema = { type: "boolean" };
const stringMap: Schema = { type: "object", additionalProperties: string };
const nullableString: Schema = { type: "string", nullable: true };
const obj = (properties: Record<string, Schema>, required?: string[]): Schema =>
  required === undefined ? { type: "object", properties } : { type: "object", properties, required };
const preserved: Schema = { type: "object", "x-kubernetes-preserve-unknown-fields": true };

export const OBJECT_META: Schema = obj({
  name: string,
  generateName: string,
  namespace: string,
  selfLink: string,
  uid: string,
  resourceVersion: string,
  generation: integer,
  creationTimestamp: nullableString,
  deletionTimestamp: nullableString,
  deletionGracePeriodSeconds: integer,
  labels: stringMap,
  annotations: stringMap,
  ownerReferences: {
    type: "array",
    items: obj(
      { apiVersion: string, kind: string, name: string, uid: string, controller: boolean, blockOwnerDeletion: boolean },
      ["apiVersion", "kind", "name", "uid"],
    ),
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["uid"],
  },
  finalizers: { type: "array", items: string, "x-kubernetes-list-type": "set" },
  managedFields: { type: "array", items: preserved },
});

/** A kind's whole-object schema: TypeMeta, ObjectMeta and the given top-level fields. */
function kindSchema(fields: Record<string, Schema>): Schema {
  return obj({ apiVersion: string, kind: string, metadata: OBJECT_META, ...fields });
}

export const NAMESPACE = kindSchema({
  spec: obj({ finalizers: { type: "array", items: string } }),
  status: obj({ phase: string, conditions: { type: "array", items: preserved } }),
});

export const CONFIG_MAP = kindSchema({ data: stringMap, binaryData: stringMap, immutable: boolean });

export const SECRET = kindSchema({ data: stringMap, stringData: stringMap, type: string, immutable: boolean });

export const LEASE = kindSchema({
  spec: obj({
    holderIdentity: string,
    leaseDurationSeconds: integer,
    acquireTime: string,
    renewTime: string,
    leaseTransitions: integer,
    strategy: string,
    preferredHolder: string,
  }),
});

const objectReference = obj({
  kind: string,
  namespace: string,
  name: string,
  uid: string,
  apiVersion: string,
  resourceVersion: string,
  fieldPath: string,
});
const eventSource = obj({ component: string, host: string });
const eventSeries = obj({ count: integer, lastObservedTime: string });

export const CORE_EVENT = kindSchema({
  involvedObject: objectReference,
  reason: string,
  message: string,
  source: eventSource,
  firstTimestamp: nullableString,
  lastTimestamp: nullableString,
  count: integer,
  type: string,
  eventTime: nullableString,
  series: eventSeries,
  action: string,
  related: objectReference,
  reportingComponent: string,
  reportingInstance: string,
});

export const EVENTS_V1_EVENT = kindSchema({
  eventTime: nullableString,
  series: eventSeries,
  reportingController: string,
  reportingInstance: string,
  action: string,
  reason: string,
  regarding: objectReference,
  related: objectReference,
  note: string,
  type: string,
  deprecatedSource: eventSource,
  deprecatedFirstTimestamp: nullableString,
  deprecatedLastTimestamp: nullableString,
  deprecatedCount: integer,
});

const names = obj({
  plural: string,
  singular: string,
  shortNames: { type: "array", items: string },
  kind: string,
  listKind: string,
  categories: { type: "array", items: string },
});

export const CUSTOM_RESOURCE_DEFINITION = kindSchema({
  spec: obj({
    group: string,
    names,
    scope: string,
    versions: {
      type: "array",
      items: obj({
        name: string,
        served: boolean,
        storage: boolean,
        deprecated: boolean,
        deprecationWarning: string,
        schema: obj({ openAPIV3Schema: preserved }),
        subresources: obj({ status: preserved, scale: preserved }),
        additionalPrinterColumns: {
          type: "array",
          items: obj({ name: string, type: string, format: string, description: string, priority: integer, jsonPath: string }),
        },
        selectableFields: { type: "array", items: obj({ jsonPath: string }) },
      }),
    },
    conversion: obj({ strategy: string, webhook: preserved }),
    preserveUnknownFields: boolean,
  }),
  status: obj({
    conditions: {
      type: "array",
      items: obj({ type: string, status: string, lastTransitionTime: string, reason: string, message: string }),
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
    },
    acceptedNames: names,
    storedVersions: { type: "array", items: string },
  }),
});
