// Fake time for webhook tests: order decisions run on this clock (ServiceOverrides.now), and
// advancing it makes the durable timers that fall due by then (grace periods, domain releases)
// due in the database, whose own clock keeps real time.
import type pg from "pg";

export class WebhookClock {
  #ms: number;
  #pool: pg.Pool | null = null;

  constructor(start: Date) {
    this.#ms = start.getTime();
  }

  readonly now = (): Date => new Date(this.#ms);

  /** Stripe's unix time for this clock, optionally `offsetMs` away. */
  unix(offsetMs = 0): number {
    return Math.floor((this.#ms + offsetMs) / 1000);
  }

  /** The service's pool, once it runs: timers live there. */
  attach(pool: pg.Pool): void {
    this.#pool = pool;
  }

  async advance(ms: number): Promise<void> {
    this.#ms += ms;
    if (this.#pool === null) throw new Error("WebhookClock.advance: attach the service's pool first");
    await this.#pool.query("UPDATE stripe_events SET next_attempt_at = now() WHERE kind = 'timer' AND state = 'pending' AND next_attempt_at > now() AND next_attempt_at <= $1", [
      this.now(),
    ]);
  }
}
