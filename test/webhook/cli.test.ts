// `aegir-operator webhook` option handling (the running service is covered by the other files).
import { describe, expect, it } from "vitest";
import { main } from "../../controller/cli.ts";
import { captureIO } from "../helpers/io.ts";

describe("aegir-operator webhook", () => {
  it("is listed in the help and documents every option with its variable", async () => {
    const io = captureIO();
    expect(await main(["help"], io)).toBe(0);
    expect(io.out()).toMatch(/^ {2}webhook +run the Stripe webhook/m);
    const usage = captureIO();
    expect(await main(["webhook", "--help"], usage)).toBe(0);
    for (const env of ["STRIPE_WEBHOOK_SECRETS", "STRIPE_API_KEY", "DATABASE_URL", "POSTGRES_DIR", "CATALOG_FILE", "PAST_DUE_GRACE", "EXPIRE_AFTER"]) {
      expect(usage.out()).toContain(`[env ${env}]`);
    }
  });

  it("refuses bad options with exit 2, naming them and never echoing secrets", async () => {
    const io = captureIO();
    const code = await main(
      ["webhook", "--webhook-secrets", "sk_live_notAWebhookSecret", "--stripe-api-key", "sk_test_ok", "--past-due-grace", "soon", "--database-url", "mysql://u:hunter2@db/x"],
      io,
    );
    expect(code).toBe(2);
    const err = io.err();
    expect(err).toContain("--webhook-secrets / STRIPE_WEBHOOK_SECRETS ([0]): each secret must look like whsec_... (value hidden)");
    expect(err).toContain('--past-due-grace / PAST_DUE_GRACE: must be a duration like 90s, 15m, 36h or 7d (got "soon")');
    expect(err).toContain("--database-url / DATABASE_URL: must be a postgres:// URL (value hidden)");
    expect(err).not.toContain("notAWebhookSecret");
    expect(err).not.toContain("hunter2");
  });
});
