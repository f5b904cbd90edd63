// metav1.Condition, with the API server's own limits (apimachinery pkg/apis/meta/v1/types.go).
import { z } from "zod";
import { rfc3339 } from "./primitives.ts";

export const CONDITION_TYPE_PATTERN =
  "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$";
export const CONDITION_REASON_PATTERN = "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$";

export const ConditionStatus = z.enum(["True", "False", "Unknown"]);

export const Condition = z
  .strictObject({
    type: z.string().max(316).regex(new RegExp(CONDITION_TYPE_PATTERN)).meta({ description: "CamelCase condition type" }),
    status: ConditionStatus,
    observedGeneration: z.int().min(0).optional().meta({ format: "int64" }),
    lastTransitionTime: rfc3339(),
    reason: z.string().min(1).max(1024).regex(new RegExp(CONDITION_REASON_PATTERN)),
    message: z.string().max(32768),
  })
  .meta({ description: "metav1.Condition" });

export type Condition = z.infer<typeof Condition>;

export const conditionList = (maxItems: number) =>
  z
    .array(Condition)
    .max(maxItems)
    .superRefine((conditions, ctx) => {
      const seen = new Set<string>();
      conditions.forEach((c, index) => {
        if (seen.has(c.type)) ctx.addIssue({ code: "custom", path: [index, "type"], message: `duplicate condition type "${c.type}"` });
        seen.add(c.type);
      });
    })
    .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] });

/** A condition as a reconciler decides it; mergeConditions adds the generation and transition time. */
export type ConditionInput = Pick<Condition, "type" | "status" | "reason" | "message">;

/** RFC 3339 in whole seconds, as metav1.Time is written. */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The old conditions with `next` merged in (mergeConditions) in place of those of the same type, appended. */
export function replaceConditions(previous: readonly Condition[], next: readonly ConditionInput[], generation: number, now: Date): Condition[] {
  return [...previous.filter((c) => !next.some((n) => n.type === c.type)), ...mergeConditions(previous, next, generation, now)];
}

/** Merge new conditions into the old ones: lastTransitionTime changes only with the status. */
export function mergeConditions(previous: readonly Condition[], next: readonly ConditionInput[], generation: number, now: Date): Condition[] {
  return next.map((c) => {
    const old = previous.find((p) => p.type === c.type);
    const lastTransitionTime = old !== undefined && old.status === c.status ? old.lastTransitionTime : timestamp(now);
    return { ...c, observedGeneration: generation, lastTransitionTime };
  });
}
