// Field sets as managedFields records them (FieldsV1), and the paths conflicts are reported with.
import { describe, expect, it } from "vitest";
import { FieldSet, collectFields, formatFieldPath, removePath, valueAt } from "../harness/kube/fieldsets.ts";
import type { Schema } from "../harness/kube/openapi.ts";

const schema: Schema = {
  type: "object",
  properties: {
    spec: {
      type: "object",
      properties: {
        features: { type: "array", items: { type: "string" }, "x-kubernetes-list-type": "set" },
        aliases: { type: "array", items: { type: "string" } },
        labels: { type: "object", additionalProperties: { type: "string" } },
      },
    },
    status: {
      type: "object",
      properties: {
        conditions: {
          type: "array",
          items: { type: "object", properties: { type: { type: "string" }, status: { type: "string" } } },
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["type"],
        },
      },
    },
  },
};

describe("field sets", () => {
  const object = {
    spec: { features: ["wiki"], aliases: ["www.a.com"], labels: { tier: "gold" } },
    status: { conditions: [{ type: "Ready", status: "True" }] },
  };

  it("owns set values and keyed items one by one, atomic lists and map entries as a whole", () => {
    const fields = collectFields(object, schema);
    expect(fields.all.toFieldsV1()).toEqual({
      "f:spec": { "f:features": { 'v:"wiki"': {} }, "f:aliases": {}, "f:labels": { "f:tier": {} } },
      "f:status": { "f:conditions": { 'k:{"type":"Ready"}': { ".": {}, "f:type": {}, "f:status": {} } } },
    });
    expect(FieldSet.fromFieldsV1(fields.all.toFieldsV1()).equals(fields.all)).toBe(true);
    expect(fields.leaves.has(["f:spec", "f:aliases"])).toBe(true);
    expect(fields.leaves.has(["f:status", "f:conditions", 'k:{"type":"Ready"}'])).toBe(false);
  });

  it("finds and removes values by path, and formats paths like the API server", () => {
    const copy = structuredClone(object);
    const condition = ["f:status", "f:conditions", 'k:{"type":"Ready"}', "f:status"];
    expect(valueAt(copy, condition)).toEqual({ found: true, value: "True" });
    expect(formatFieldPath(condition)).toBe('.status.conditions[type="Ready"].status');
    expect(formatFieldPath(["f:spec", "f:features", 'v:"wiki"'])).toBe('.spec.features[="wiki"]');
    removePath(copy, ["f:spec", "f:features", 'v:"wiki"']);
    removePath(copy, ["f:status", "f:conditions", 'k:{"type":"Ready"}']);
    expect(copy).toEqual({ spec: { features: [], aliases: ["www.a.com"], labels: { tier: "gold" } }, status: { conditions: [] } });
  });
});
