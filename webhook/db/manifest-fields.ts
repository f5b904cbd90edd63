// Reading one spec field of an outbox manifest in SQL. The manifest is a HostedSite, or for a demo
// order a List (the HostedSpace alone, or the upgraded order's HostedSite and its kept space):
// the field is the HostedSite's when there is one, else the space's.

/** SQL text of `alias.manifest`'s spec field `field` (a fixed identifier, never user input). */
export function manifestSpecField(alias: string, field: "expiresAt" | "suspended"): string {
  return `COALESCE(${alias}.manifest->'spec'->>'${field}',
            (SELECT i->'spec'->>'${field}' FROM jsonb_array_elements(
               CASE WHEN jsonb_typeof(${alias}.manifest->'items') = 'array' THEN ${alias}.manifest->'items' ELSE '[]'::jsonb END) i
              ORDER BY i->>'kind' = 'HostedSite' DESC LIMIT 1))`;
}
