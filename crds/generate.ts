// Generates the CustomResourceDefinitions from the zod schemas, so the API server enforces
// exactly what the CLI, webhook and controller check.
import * as yaml from "js-yaml";
import { z } from "zod";
import { CATEGORY, GROUP, KINDS, type KindDefinition, VERSION } from "./kinds.ts";

export type JsonSchema = { [key: string]: unknown };

/** The OpenAPI v3 structural schema of a zod schema, as the API server wants it. */
export function toStructuralSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { target: "openapi-3.0", io: "input", unrepresentable: "throw" }) as JsonSchema;
  return structural(json);
}

function structural(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$schema" || key === "propertyNames") continue;
    // Unknown fields are pruned (and refused by kubectl's strict field validation); a
    // structural schema may not combine `properties` with `additionalProperties`.
    if (key === "additionalProperties" && value === false) continue;
    if (key === "properties" && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structural(v as JsonSchema)]));
    } else if ((key === "items" || key === "additionalProperties") && isObject(value)) {
      out[key] = structural(value);
    } else {
      out[key] = value;
    }
  }
  return ordered(out);
}

/** type and description first, Kubernetes extensions last: easier to read in review. */
function ordered(node: JsonSchema): JsonSchema {
  const rank = (key: string) => (key === "type" ? 0 : key === "description" ? 1 : key.startsWith("x-kubernetes-") ? 3 : 2);
  return Object.fromEntries(Object.entries(node).sort(([a], [b]) => rank(a) - rank(b)));
}

function isObject(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function crdFor(def: KindDefinition): JsonSchema {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { "app.kubernetes.io/name": "aegir-operator", "app.kubernetes.io/component": "crd" },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: def.listKind,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: [CATEGORY],
      },
      scope: def.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: def.description,
              required: ["spec"],
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: toStructuralSchema(def.spec),
                status: toStructuralSchema(def.status),
              },
            },
          },
        },
      ],
    },
  };
}

export const GENERATED_HEADER = "# Generated from the zod schemas in crds/*.ts by `npm run crds`. Do not edit.\n";

/** File name under crds/ of a kind's CRD, kubebuilder style. */
export const crdFileName = (def: KindDefinition) => `${GROUP}_${def.plural}.yaml`;

export function crdYaml(def: KindDefinition): string {
  return GENERATED_HEADER + yaml.dump(crdFor(def), { lineWidth: -1, noRefs: true });
}

/** All CRDs as one multi-document YAML stream. */
export function allCrdsYaml(): string {
  return KINDS.map((def) => crdYaml(def)).join("---\n");
}
