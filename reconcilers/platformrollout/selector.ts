// metav1.LabelSelector matching, as the API server applies it. Pure.
import type { LabelSelector } from "../../crds/platformrollout.ts";

export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (have[key] !== value) return false;
  for (const e of selector.matchExpressions ?? []) {
    const value = Object.hasOwn(have, e.key) ? have[e.key] : undefined;
    const listed = value !== undefined && (e.values ?? []).includes(value);
    const ok = e.operator === "In" ? listed : e.operator === "NotIn" ? !listed : e.operator === "Exists" ? value !== undefined : value === undefined;
    if (!ok) return false;
  }
  return true;
}
