// Exponential backoff with a cap: attempt 1 waits `baseMs`, each further attempt doubles it.
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export function backoffDelayMs(attempt: number, policy: BackoffPolicy): number {
  const exponent = Math.max(0, attempt - 1);
  // 2^exponent overflows to Infinity long before it matters; min() keeps the cap.
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(exponent, 40));
}
