// The pg pool every part of the webhook shares. Short timeouts so that, while PostgreSQL is
// down, a delivery fails fast with 503 (Stripe retries) instead of hanging.
import pg from "pg";
import type { Logger } from "../../common/logger.ts";

export interface PoolOptions {
  connectionString: string;
  max?: number;
  logger: Logger;
}

export function createPool({ connectionString, max = 20, logger }: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 10_000,
    // A query stuck behind a dead server must not hold a worker or a request forever.
    query_timeout: 30_000,
    application_name: "aegir-operator-webhook",
  });
  // Without listeners, a client losing its connection (server restart) would crash the process:
  // the pool reports idle clients, each client reports itself while checked out. The query in
  // progress, if any, fails on its own and is handled by its caller. Once the pool is ending, a
  // closing connection cut by the server's own shutdown is expected and not worth a warning.
  const lost = (error: Error) => {
    if (!pool.ending) logger.warn({ err: error.message }, "postgres connection lost");
  };
  pool.on("error", lost);
  pool.on("connect", (client) => client.on("error", lost));
  return pool;
}
