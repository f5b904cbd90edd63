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
      return { ok: true, payload: Stripe.webhooks.constructEvent(rawBody, header, secret, toleranceSeconds) };
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
