// `aegir-operator webhook`: the Stripe webhook, inbox worker and relay in one process.
import { ConfigError, describeOptions, loadConfig, parseArgs } from "../../common/config.ts";
import { createLogger } from "../../common/logger.ts";
import { CatalogError } from "../../webhook/catalog.ts";
import { WEBHOOK_OPTIONS } from "../../webhook/config.ts";
import { startWebhookService } from "../../webhook/service.ts";
import { type Command, USAGE_ERROR } from "./command.ts";

export const webhookCommand: Command = {
  name: "webhook",
  usage: `usage: aegir-operator webhook [options]

Receives Stripe events on POST /stripe/webhook, stores them in PostgreSQL, turns paid
subscriptions into HostedSites (server-side apply, field manager stripe-webhook).
Serves /healthz, /readyz and /metrics on the same port. Stops on SIGINT/SIGTERM.

Options (flag > environment > default):
${describeOptions(WEBHOOK_OPTIONS)}`,

  async run(argv, io) {
    let config;
    try {
      const { flags, positionals } = parseArgs(argv);
      if (positionals.length > 0) throw new ConfigError([`unexpected argument ${JSON.stringify(positionals[0])}`]);
      config = loadConfig(WEBHOOK_OPTIONS, flags, process.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      io.stderr.write(`webhook: ${error.message}\n`);
      return USAGE_ERROR;
    }
    const logger = createLogger({ name: "webhook", level: config.logLevel });
    let service;
    try {
      service = await startWebhookService(config, logger);
    } catch (error) {
      const message = error instanceof CatalogError ? error.message : `cannot start: ${error instanceof Error ? error.message : String(error)}`;
      io.stderr.write(`webhook: ${message}\n`);
      logger.flush();
      return 1;
    }
    const signal = await new Promise<string>((resolve) => {
      process.once("SIGINT", () => resolve("SIGINT"));
      process.once("SIGTERM", () => resolve("SIGTERM"));
    });
    logger.info({ signal }, "stopping");
    await service.stop();
    logger.flush();
    return 0;
  },
};
