// The operator's quota enforcement script (reconcilers/aegir/quota.ts) against the model: the
// quota's start is recorded, then the newest active accounts created since then are blocked
// while more than the limit are active; uid 1 and the kept names never.
import type { DrupalSite } from "./drupal.ts";
import { type DrushResult, done, failed, phpJson, printed } from "./result.ts";

export function enforceQuota(drupal: DrupalSite, stdin: string, now: number): DrushResult {
  let input: { limit?: unknown; keep?: unknown };
  try {
    input = JSON.parse(stdin) as typeof input;
    if (typeof input !== "object" || input === null) return failed("Standard input is not a JSON object.");
  } catch {
    return failed("Standard input is not a JSON object.");
  }
  const limit = typeof input.limit === "number" ? Math.trunc(input.limit) : 0;
  drupal.variables.set("user_limit", limit);
  let quota = drupal.variables.get("aegir_operator_quota") as { limit: number; since: number } | undefined;
  if (quota?.limit !== limit) drupal.variables.set("aegir_operator_quota", (quota = { limit, since: now }));
  const keep = new Set((Array.isArray(input.keep) ? input.keep : []).filter((k): k is string => typeof k === "string").map((k) => k.toLowerCase()));
  const active = [...drupal.users.values()].filter((u) => u.uid > 1 && u.status === 1).sort((a, b) => b.created - a.created || b.uid - a.uid);
  let excess = active.length - limit;
  const blocked: string[] = [];
  for (const user of active) {
    if (excess <= 0 || user.created < quota.since) break;
    if (keep.has(user.name.toLowerCase())) continue;
    user.status = 0;
    blocked.push(user.name);
    excess--;
  }
  return done(printed(phpJson({ blocked, active: active.length - blocked.length })));
}
