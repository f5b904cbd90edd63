// Verifies Stripe-Signature on the raw body with the stripe SDK. Several secrets are tried in
// turn: while a secret is rolled, Stripe signs with both and either must be accepted.
import Stripe from "stripe";

export type SignatureFailure = "missing" | "malformed" | "mismatch" | "stale";

export type VerifyResult = { ok: true; payload: unknown } | { ok: false; reason: SignatureFailure; message: string };

export function verifySignature(
  rawBody: Buffer,
  header: string | string[] | undefined,
  secrets: readonly string[],
  toleranceSeconds: number,
): VerifyResult {
  if (typeof header !== "string" || header.trim() === "") return { ok: false, reason: "missing", message: "no Stripe-Signature header" };
  let stale: string | null = null;
  let last = "no signing secret configured";
  for (const secret of secrets) {
    try {
      const payload: unknown = Stripe.webhooks.constructEvent(rawBody, header, secret, toleranceSeconds);
      // The SDK only bounds the age; a timestamp far ahead would make a signature valid for as long.
      const ahead = signedAt(header) - Date.now() / 1000;
      if (ahead > toleranceSeconds) return { ok: false, reason: "stale", message: `timestamp is ${Math.round(ahead)}s in the future, beyond the tolerance` };
      return { ok: true, payload };
    } catch (error) {
      if (!(error instanceof Stripe.errors.StripeSignatureVerificationError)) {
        // Signed, but not JSON: the signature was good, the body is not an event.
        return { ok: false, reason: "malformed", message: "signed body is not valid JSON" };
      }
      last = error.message.split("\n")[0] ?? error.message;
      if (/tolerance/i.test(last)) stale = last;
      else if (/Unable to extract|expected scheme/i.test(last)) return { ok: false, reason: "malformed", message: last };
    }
  }
  // The timestamp check runs only after a signature matched, so "stale" means the right secret signed an old delivery.
  return stale !== null ? { ok: false, reason: "stale", message: stale } : { ok: false, reason: "mismatch", message: last };
}

/** The `t=` of a header the SDK has already verified. */
function signedAt(header: string): number {
  const t = header.split(",").find((part) => part.trim().startsWith("t="));
  return Number(t?.trim().slice(2));
}
