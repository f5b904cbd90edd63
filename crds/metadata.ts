// The part of ObjectMeta a manifest may carry. The API server owns metadata, so this is checked
// by the CLI and webhook only; it is not part of the CRD schema.
import { z } from "zod";
import { dns1123Label, dns1123Subdomain } from "./primitives.ts";

const QUALIFIED_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const keyOf = z.string().max(316).regex(QUALIFIED_KEY, { error: "must be a qualified key like example.com/name" });

export const ObjectMeta = z
  .object({
    name: dns1123Subdomain(),
    namespace: dns1123Label().optional(),
    labels: z.record(keyOf, z.string().max(63).regex(LABEL_VALUE, { error: "must be a valid label value" })).optional(),
    annotations: z
      .record(keyOf, z.string())
      .refine((a) => JSON.stringify(a).length <= 256 * 1024, { error: "annotations must total at most 256 KiB" })
      .optional(),
    finalizers: z.array(z.string().max(316).regex(QUALIFIED_KEY)).max(64).optional(),
    // Read-only fields that appear in `kubectl get -o yaml` output; accepted as they are.
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: z.int().optional(),
    creationTimestamp: z.string().nullable().optional(),
    deletionTimestamp: z.string().optional(),
    deletionGracePeriodSeconds: z.int().optional(),
    generateName: z.string().optional(),
    managedFields: z.array(z.unknown()).optional(),
    ownerReferences: z.array(z.unknown()).optional(),
  })
  .strict();

export type ObjectMeta = z.infer<typeof ObjectMeta>;
