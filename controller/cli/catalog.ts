// `aegir-operator catalog sync [--dry-run]`: creates or updates the Stripe products and prices
// the service catalog names. Idempotent; never deletes; prices the catalog no longer names are
// reported.
import { bool, ConfigError, describeOptions, loadConfig, parseArgs } from "../../common/config.ts";
import { CatalogError, loadCatalog } from "../../webhook/catalog.ts";
import { describeAction, describeUnnamed, planCatalogSync } from "../../webhook/catalog-sync.ts";
import { applySyncAction, readRemoteCatalog } from "../../webhook/catalog-sync-stripe.ts";
import { WEBHOOK_OPTIONS } from "../../webhook/config.ts";
import { createStripeClient } from "../../webhook/stripe-reader.ts";
import { type Command, USAGE_ERROR } from "./command.ts";

export const CATALOG_OPTIONS = {
  catalog: WEBHOOK_OPTIONS.catalog,
  apiKey: { ...WEBHOOK_OPTIONS.apiKey, description: "Stripe secret or restricted key with write access to products and prices" },
  apiBase: WEBHOOK_OPTIONS.apiBase,
  dryRun: { flag: "dry-run", env: "CATALOG_SYNC_DRY_RUN", schema: bool(false), description: "print the changes without making them" },
};

export const catalogCommand: Command = {
  name: "catalog",
  usage: `usage: aegir-operator catalog sync [--dry-run] [options]

Creates the Stripe products and prices the service catalog names (lookup_key = item key),
updates product names and descriptions, and replaces a price whose amount, currency or interval
changed by a new price that takes its lookup key over (the old one keeps its subscriptions).
Never deletes: prices of the catalog's products that it no longer names are reported.

Options (flag > environment > default):
${describeOptions(CATALOG_OPTIONS)}`,

  async run(argv, io) {
    let config;
    try {
      const { flags, positionals } = parseArgs(argv, new Set(["dry-run"]));
      if (positionals[0] !== "sync" || positionals.length > 1) throw new ConfigError([`expected "sync", got ${positionals.length === 0 ? "nothing" : JSON.stringify(positionals.join(" "))}`]);
      config = loadConfig(CATALOG_OPTIONS, flags, process.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      io.stderr.write(`catalog: ${error.message}\n`);
      return USAGE_ERROR;
    }
    try {
      const catalog = await loadCatalog(config.catalog);
      const stripe = createStripeClient({ apiKey: config.apiKey, apiBase: config.apiBase });
      const plan = planCatalogSync(catalog, await readRemoteCatalog(stripe, catalog));
      for (const price of plan.unnamed) io.stdout.write(`${describeUnnamed(price)}\n`);
      if (plan.actions.length === 0) {
        io.stdout.write("Stripe matches the catalog: nothing to change.\n");
        return 0;
      }
      for (const action of plan.actions) {
        if (!config.dryRun) await applySyncAction(stripe, action);
        io.stdout.write(`${config.dryRun ? "would " : ""}${describeAction(action)}\n`);
      }
      io.stdout.write(config.dryRun ? `${plan.actions.length} changes to make (dry run: none made).\n` : `${plan.actions.length} changes made.\n`);
      return 0;
    } catch (error) {
      io.stderr.write(`catalog: ${error instanceof CatalogError ? error.message : `sync failed: ${error instanceof Error ? error.message : String(error)}`}\n`);
      return 1;
    }
  },
};
