// Pure-ish token bucket per client address, with an injectable clock: `limit` requests per
// window, refilled continuously. Bounded memory: the least recently seen addresses are forgotten
// first once `maxClients` are tracked.
export interface RateLimiter {
  /** Takes one token; the seconds to wait when none is left. */
  take(client: string): { ok: true } | { ok: false; retryAfterSeconds: number };
}

export function rateLimiter(options: { limit: number; windowMs: number; maxClients?: number; now?: () => number }): RateLimiter {
  const { limit, windowMs } = options;
  const maxClients = options.maxClients ?? 10_000;
  const now = options.now ?? Date.now;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = limit / windowMs;
  return {
    take(client) {
      const t = now();
      const seen = buckets.get(client);
      const tokens = seen === undefined ? limit : Math.min(limit, seen.tokens + (t - seen.at) * perMs);
      buckets.delete(client);
      if (tokens < 1) {
        buckets.set(client, { tokens, at: t });
        return { ok: false, retryAfterSeconds: Math.ceil((1 - tokens) / perMs / 1000) };
      }
      buckets.set(client, { tokens: tokens - 1, at: t });
      if (buckets.size > maxClients) buckets.delete(buckets.keys().next().value as string);
      return { ok: true };
    },
  };
}
