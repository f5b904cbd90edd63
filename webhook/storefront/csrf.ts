// Form tokens against cross-site request forgery (double submit, signed): the browser holds a
// random value in a cookie; each form carries HMAC(key, value). Another site can make the browser
// send the cookie, but cannot read it to compute the token.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const CSRF_COOKIE = "shop_csrf";
const VALUE = /^[A-Za-z0-9_-]{43}$/;

export interface CsrfTokens {
  /** A new cookie value. */
  issue(): string;
  /** The form token for a cookie value. */
  tokenFor(cookie: string): string;
  /** Whether the form's token matches the cookie the browser sent. */
  verify(cookie: string | undefined, token: string | undefined): boolean;
  /** The cookie value if it is one we could have issued, else undefined. */
  valid(cookie: string | undefined): string | undefined;
}

export function csrfTokens(key: string | Buffer = randomBytes(32)): CsrfTokens {
  const tokenFor = (cookie: string) => createHmac("sha256", key).update(cookie).digest("base64url");
  return {
    issue: () => randomBytes(32).toString("base64url"),
    tokenFor,
    valid: (cookie) => (cookie !== undefined && VALUE.test(cookie) ? cookie : undefined),
    verify(cookie, token) {
      if (cookie === undefined || token === undefined || !VALUE.test(cookie)) return false;
      const expected = Buffer.from(tokenFor(cookie));
      const given = Buffer.from(token);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

/** One cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
