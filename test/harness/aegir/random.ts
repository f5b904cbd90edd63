// Seeded pseudo-random numbers (mulberry32): the same seed gives the same login hashes and the
// same probabilistic faults, so a failing chaos run can be replayed.

export class Random {
  private state: number;

  constructor(seed = 1) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  chance(probability: number): boolean {
    return probability >= 1 || this.next() < probability;
  }

  /** A token in Drupal's base64url alphabet (drupal_hmac_base64 output is 43 characters). */
  token(length = 43): string {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * 64)];
    return out;
  }
}
