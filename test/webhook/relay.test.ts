// The relay gives its lease back even through a database blip: otherwise the row would wait out
// the whole lease before another attempt (what the chaos suite found with PostgreSQL restarts).
import type pg from "pg";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createMetrics } from "../../webhook/metrics.ts";
import { relayNext, type RelayOptions } from "../../webhook/relay.ts";
import { quietLogger, SAMPLE_MANIFEST } from "./support.ts";

const manifest = SAMPLE_MANIFEST;

/** A pool whose claim returns one row and whose first `failures` other queries fail like a restarting server. */
function fakePool(failures: number) {
  const updates: string[] = [];
  let left = failures;
  const pool = {
    query(sql: string) {
      if (sql.includes("leased_until = now()")) return Promise.resolve({ rows: [{ subscription_id: "sub_1Qexample", version: "1", manifest, attempts: 0 }] });
      updates.push(sql.includes("applied_version = GREATEST") ? "applied" : "failed");
      if (left-- > 0) return Promise.reject(new Error("terminating connection due to administrator command"));
      return Promise.resolve({ rows: [], rowCount: 1 });
    },
  };
  return { pool: pool as unknown as pg.Pool, updates };
}

function options(pool: pg.Pool, apply: () => Promise<void>): RelayOptions {
  return {
    pool,
    applier: { apply },
    logger: quietLogger(),
    metrics: createMetrics({ inboxDepth: () => Promise.resolve(0), stuckEvents: () => Promise.resolve(0), processMetrics: false }),
    backoff: { baseMs: 100, maxMs: 1_000 },
    leaseMs: 30_000,
    concurrency: 1,
    pollMs: 1_000,
  };
}

describe("relay", () => {
  afterEach(() => vi.useRealTimers());

  it("records a successful apply even when the database drops the first tries", async () => {
    vi.useFakeTimers();
    const { pool, updates } = fakePool(2);
    const done = relayNext(options(pool, () => Promise.resolve()));
    await vi.runAllTimersAsync();
    await expect(done).resolves.toBe(true);
    expect(updates).toEqual(["applied", "applied", "applied"]);
  });

  it("gives the lease back after a failed apply through a database blip", async () => {
    vi.useFakeTimers();
    const { pool, updates } = fakePool(1);
    const done = relayNext(options(pool, () => Promise.reject(new Error("kubernetes API: fetch failed"))));
    await vi.runAllTimersAsync();
    await expect(done).resolves.toBe(true);
    expect(updates).toEqual(["failed", "failed"]);
  });

  it("gives up after a few seconds of a database that stays down (the work loop pauses and tries again)", async () => {
    vi.useFakeTimers();
    const { pool, updates } = fakePool(100);
    const done = relayNext(options(pool, () => Promise.resolve()));
    const settled = expect(done).rejects.toThrow("terminating connection");
    await vi.runAllTimersAsync();
    await settled;
    expect(updates).toHaveLength(5);
  });
});
