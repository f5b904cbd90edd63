// The HostedSpace the outbox last held for a subscription (a demo order, or one upgraded from it).
import type pg from "pg";
import type { HostedSpaceManifest } from "../hostedspace-manifest.ts";

export async function loadLastSpace(client: pg.PoolClient, subscriptionId: string): Promise<HostedSpaceManifest | undefined> {
  const r = await client.query<{ item: HostedSpaceManifest }>(
    `SELECT item FROM outbox, jsonb_array_elements(CASE WHEN manifest->>'kind' = 'List' THEN manifest->'items' ELSE '[]'::jsonb END) AS item
      WHERE subscription_id = $1 AND item->>'kind' = 'HostedSpace'`,
    [subscriptionId],
  );
  return r.rows[0]?.item;
}
