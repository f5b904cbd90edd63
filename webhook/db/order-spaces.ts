// The HostedSpace the outbox last held for a subscription (a demo order, or one upgraded from it),
// and the HostedSite spec a demo's space was made from.
import type pg from "pg";
import type { HostedSiteSpecInput } from "../../crds/hostedsite.ts";
import type { HostedSpaceManifest } from "../hostedspace-manifest.ts";

export async function loadLastSpace(client: pg.PoolClient, subscriptionId: string): Promise<HostedSpaceManifest | undefined> {
  const r = await client.query<{ item: HostedSpaceManifest }>(
    `SELECT item FROM outbox, jsonb_array_elements(CASE WHEN manifest->>'kind' = 'List' THEN manifest->'items' ELSE '[]'::jsonb END) AS item
      WHERE subscription_id = $1 AND item->>'kind' = 'HostedSpace'`,
    [subscriptionId],
  );
  return r.rows[0]?.item;
}

/** Records the spec a demo's space was made from beside the outbox row (null: the row holds a HostedSite). */
export async function saveDemoSpec(client: pg.PoolClient, subscriptionId: string, spec: HostedSiteSpecInput | null): Promise<void> {
  await client.query("UPDATE outbox SET demo_spec = $2 WHERE subscription_id = $1", [subscriptionId, spec === null ? null : JSON.stringify(spec)]);
}

/** The spec the demo's space was last made from, while the order is still a demo. */
export async function loadDemoSpec(client: pg.PoolClient, subscriptionId: string): Promise<HostedSiteSpecInput | null> {
  const r = await client.query<{ spec: HostedSiteSpecInput | null }>("SELECT demo_spec AS spec FROM outbox WHERE subscription_id = $1", [subscriptionId]);
  return r.rows[0]?.spec ?? null;
}
