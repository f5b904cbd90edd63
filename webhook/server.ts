// The HTTP side: POST /stripe/webhook (signature verified on the raw body, event stored in the
// inbox before the 2xx), /healthz, /readyz, /metrics.
import Fastify, { type FastifyInstance } from "fastify";
import type pg from "pg";
import type { Logger } from "../common/logger.ts";
import { storeEvent } from "./inbox.ts";
import type { WebhookMetrics } from "./metrics.ts";
import { verifySignature } from "./signature.ts";
import { EventEnvelope, routeEvent } from "./stripe-objects.ts";

export const WEBHOOK_PATH = "/stripe/webhook";

export interface ServerOptions {
  pool: pg.Pool;
  secrets: readonly string[];
  toleranceSeconds: number;
  bodyLimit: number;
  metrics: WebhookMetrics;
  logger: Logger;
  /** An event was stored: wake the worker in this process. */
  onStored?: () => void;
}

export function buildServer(options: ServerOptions): FastifyInstance {
  const { pool, metrics, logger } = options;
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimit, return503OnClosing: true });

  // Encapsulated so that only this route gets the body as raw bytes: the signature covers them exactly.
  void app.register((scope, _opts, done) => {
    scope.addContentTypeParser("application/json", { parseAs: "buffer", bodyLimit: options.bodyLimit }, (_req, body, next) => next(null, body));
    scope.post(WEBHOOK_PATH, async (request, reply) => {
      const raw = request.body;
      // Other content types reach here parsed by fastify's defaults (text/plain): not a Stripe delivery.
      if (!Buffer.isBuffer(raw)) return reply.code(415).send({ error: "content type must be application/json" });

      const verified = verifySignature(raw, request.headers["stripe-signature"], options.secrets, options.toleranceSeconds);
      if (!verified.ok) {
        metrics.signatureFailures.inc({ reason: verified.reason });
        logger.warn({ reason: verified.reason, detail: verified.message, ip: request.ip }, "stripe webhook refused: signature");
        return reply.code(400).send({ error: `signature verification failed: ${verified.reason}` });
      }
      const envelope = EventEnvelope.safeParse(verified.payload);
      if (!envelope.success) {
        metrics.eventsReceived.inc({ type: "unknown", outcome: "malformed" });
        logger.warn({ problem: envelope.error.issues[0]?.message }, "stripe webhook refused: not a Stripe event");
        return reply.code(400).send({ error: "not a Stripe event" });
      }
      const event = envelope.data;
      const route = routeEvent(event);
      const log = logger.child({ eventId: event.id, type: event.type });
      if (!route.handled) {
        metrics.eventsReceived.inc({ type: event.type, outcome: "ignored" });
        log.debug({ reason: route.reason }, "stripe event ignored");
        return reply.code(200).send({ received: true, ignored: route.reason });
      }

      const byCustomer = "customerId" in route;
      const key = byCustomer ? route.customerId : route.subscriptionId;
      let outcome: "stored" | "duplicate";
      try {
        outcome = await storeEvent(pool, {
          id: event.id,
          type: event.type,
          key,
          checkoutSessionId: byCustomer ? null : route.checkoutSessionId,
          livemode: event.livemode,
          apiVersion: event.api_version ?? null,
          created: event.created,
          rawJson: raw.toString("utf8"),
        });
      } catch (error) {
        if (isUnstorable(error)) {
          // PostgreSQL refuses the values themselves (a NUL or lone surrogate in the JSON, a time out of
          // range, nesting beyond its stack depth): no retry can store this event, so it is bad input, not an outage.
          metrics.eventsReceived.inc({ type: event.type, outcome: "malformed" });
          const problem = [error.message, error.detail].filter((m) => typeof m === "string" && m !== "").join(": ");
          log.warn({ err: problem }, "stripe event refused: cannot be stored");
          return reply.code(400).send({ error: `event cannot be stored: ${problem.split("\n")[0] ?? ""}` });
        }
        // Not stored, so not acknowledged: Stripe delivers it again later.
        metrics.eventsReceived.inc({ type: event.type, outcome: "unavailable" });
        log.error({ err: error instanceof Error ? error.message : String(error) }, "stripe event not stored: database unavailable");
        return reply.code(503).header("retry-after", "10").send({ error: "temporarily unavailable" });
      }
      metrics.eventsReceived.inc({ type: event.type, outcome });
      log.info({ ...(byCustomer ? { customer: key } : { subscription: key }), outcome }, "stripe event received");
      if (outcome === "stored") options.onStored?.();
      return reply.code(200).send({ received: true, duplicate: outcome === "duplicate" });
    });
    done();
  });

  app.get("/healthz", (_request, reply) => reply.send({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    try {
      await pool.query("SELECT 1 FROM webhook_schema_migrations LIMIT 1");
      return { status: "ready" };
    } catch {
      return reply.code(503).send({ status: "database unavailable" });
    }
  });
  app.get("/metrics", async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.header("content-type", metrics.registry.contentType).send(body);
  });
  return app;
}

/**
 * SQLSTATE class 22 (data exception) or 54 (program limit exceeded, e.g. "stack depth limit
 * exceeded"): the statement failed on the values, not on the database.
 */
function isUnstorable(error: unknown): error is Error & { code: string; detail?: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === "string" && (code.startsWith("22") || code.startsWith("54"));
}
