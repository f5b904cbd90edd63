// `aegir-operator orders list|show SUB|retry SUB|resync`: the order ledger for support staff,
// without SQL. list and show read; retry re-queues an order's processing (the running webhook's
// inbox worker re-reads Stripe and decides); resync runs a re-sync pass now.
import { z } from "zod";
import { ConfigError, describeOptions, loadConfig, parseArgs, type OptionSpecs } from "../../common/config.ts";
import { createLogger } from "../../common/logger.ts";
import { CatalogError, loadCatalog } from "../../webhook/catalog.ts";
import { WEBHOOK_OPTIONS } from "../../webhook/config.ts";
import { listOrders, retryOrder, showOrder, type OrderDetail, type OrderSummary } from "../../webhook/db/order-views.ts";
import { createPool } from "../../webhook/db/pool.ts";
import { runResyncPass, stripeSubscriptionLister } from "../../webhook/resync.ts";
import { SubscriptionId } from "../../webhook/stripe-objects.ts";
import { createStripeClient } from "../../webhook/stripe-reader.ts";
import { rateLimitedHttpClient, RequestRateLimiter } from "../../webhook/stripe-rate-limit.ts";
import Stripe from "stripe";
import { type Command, type CommandIO, USAGE_ERROR } from "./command.ts";

const STATES = ["awaiting_payment", "active", "past_due", "suspended", "ended", "parked", "unknown", "dead", "trouble"] as const;

const database = { ...WEBHOOK_OPTIONS.databaseUrl, schema: z.url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// URL" }), description: "PostgreSQL server of the webhook (its order ledger)" };
const output = { flag: "output", env: "ORDERS_OUTPUT", schema: z.enum(["table", "json"]).default("table"), description: "table or json (also -o json)" };

export const ORDERS_LIST_OPTIONS = {
  databaseUrl: database,
  output,
  state: {
    flag: "state",
    env: "ORDERS_STATE",
    schema: z.enum(STATES).optional(),
    description: "only orders in this state; dead: with dead events; trouble: parked, dead or still retried",
  },
  limit: { flag: "limit", env: "ORDERS_LIMIT", schema: z.coerce.number().int().min(1).max(100_000).default(200), description: "most orders listed, newest change first (default 200)" },
};
export const ORDERS_SHOW_OPTIONS = { databaseUrl: database, output };
export const ORDERS_RESYNC_OPTIONS = {
  databaseUrl: database,
  output,
  apiKey: WEBHOOK_OPTIONS.apiKey,
  apiBase: WEBHOOK_OPTIONS.apiBase,
  catalog: WEBHOOK_OPTIONS.catalog,
  readRate: WEBHOOK_OPTIONS.readRate,
};

const USAGE = `usage: aegir-operator orders list [--state STATE] [--limit N] [-o json]
       aegir-operator orders show SUBSCRIPTION [-o json]
       aegir-operator orders retry SUBSCRIPTION [-o json]
       aegir-operator orders resync [-o json]

Reads the webhook's order ledger: each order's state and reason, its Stripe status, the
HostedSite it produced, dead events (no retry can help) and events still retried with their
last error. retry re-queues an order's processing now (dead events are revived; a parked order
is reviewed once its cause is fixed); the running webhook re-reads Stripe and decides. resync
compares every subscription Stripe lists with the ledger now and queues a re-read of each one
that changed (the webhook does this every --resync-interval).

list options:
${describeOptions(ORDERS_LIST_OPTIONS)}
resync options (show and retry take --database-url and --output):
${describeOptions(ORDERS_RESYNC_OPTIONS)}`;

export const ordersCommand: Command = {
  name: "orders",
  usage: USAGE,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    try {
      const args = expandShortOutput(rest);
      switch (sub) {
        case "list": {
          const config = parse(ORDERS_LIST_OPTIONS, args, 0);
          return await withPool(config.config.databaseUrl, async (pool) => {
            const orders = await listOrders(pool, { state: config.config.state, limit: config.config.limit });
            io.stdout.write(config.config.output === "json" ? `${JSON.stringify(orders, null, 2)}\n` : listTable(orders));
            return 0;
          });
        }
        case "show":
        case "retry": {
          const { config, positionals } = parse(ORDERS_SHOW_OPTIONS, args, 1);
          const id = SubscriptionId.safeParse(positionals[0]);
          if (!id.success) throw new ConfigError([`SUBSCRIPTION: ${id.error.issues[0]?.message} (got ${JSON.stringify(positionals[0])})`]);
          return await withPool(config.databaseUrl, async (pool) => {
            if (sub === "show") {
              const detail = await showOrder(pool, id.data);
              if (detail === null) return notFound(io, id.data);
              io.stdout.write(config.output === "json" ? `${JSON.stringify(detail, null, 2)}\n` : detailText(detail));
              return 0;
            }
            const client = await pool.connect();
            try {
              await client.query("BEGIN");
              if ((await showOrder(client, id.data, 1)) === null) {
                await client.query("ROLLBACK");
                return notFound(io, id.data);
              }
              const result = await retryOrder(client, id.data);
              await client.query("COMMIT");
              io.stdout.write(
                config.output === "json"
                  ? `${JSON.stringify({ subscription: id.data, ...result })}\n`
                  : `${id.data}: ${result.revived} dead events revived, ${result.hastened} retries brought forward${result.reviewQueued ? ", a review queued" : ""}${result.relayHastened ? ", the HostedSite apply retried now" : ""}; the webhook processes it next.\n`,
              );
              return 0;
            } catch (error) {
              await client.query("ROLLBACK").catch(() => undefined);
              throw error;
            } finally {
              client.release();
            }
          });
        }
        case "resync": {
          const { config } = parse(ORDERS_RESYNC_OPTIONS, args, 0);
          const catalog = await loadCatalog(config.catalog);
          const http = rateLimitedHttpClient(Stripe.createNodeHttpClient(), new RequestRateLimiter(config.readRate));
          const stripe = createStripeClient({ apiKey: config.apiKey, apiBase: config.apiBase, httpClient: http });
          const logger = createLogger({ name: "orders", level: "warn" });
          return await withPool(config.databaseUrl, async (pool) => {
            const summary = await runResyncPass({ pool, list: stripeSubscriptionLister(stripe), catalog, readRatePerSecond: config.readRate, logger });
            if (summary === null) {
              io.stderr.write("orders: another re-sync pass is running (a webhook replica); try again later\n");
              return 1;
            }
            io.stdout.write(
              config.output === "json"
                ? `${JSON.stringify(summary)}\n`
                : `pass ${summary.pass}: ${summary.listed} subscriptions listed in ${summary.pages} pages (${summary.seconds.toFixed(1)} s); ${summary.reviews} changed or new and ${summary.unlisted} orders not listed queued for a re-read${summary.lastDueAt === null ? "" : `, the last due ${summary.lastDueAt.toISOString()}`}${summary.invalid > 0 ? `; ${summary.invalid} unreadable objects skipped` : ""}.\n`,
            );
            return 0;
          });
        }
        default:
          throw new ConfigError([`expected list, show, retry or resync, got ${sub === undefined ? "nothing" : JSON.stringify(sub)}`]);
      }
    } catch (error) {
      if (error instanceof ConfigError) {
        io.stderr.write(`orders: ${error.message}\n`);
        return USAGE_ERROR;
      }
      io.stderr.write(`orders: ${error instanceof CatalogError ? error.message : error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }
  },
};

/** `-o json` as the other commands take it. */
function expandShortOutput(args: readonly string[]): string[] {
  return args.map((a) => (a === "-o" ? "--output" : a));
}

function parse<S extends OptionSpecs>(specs: S, args: readonly string[], positionalCount: number) {
  const { flags, positionals } = parseArgs(args);
  if (positionals.length !== positionalCount) {
    throw new ConfigError([positionalCount === 0 ? `unexpected argument ${JSON.stringify(positionals[0])}` : `expected one SUBSCRIPTION (sub_...), got ${positionals.length}`]);
  }
  return { config: loadConfig(specs, flags, process.env), positionals };
}

async function withPool(url: string, fn: (pool: ReturnType<typeof createPool>) => Promise<number>): Promise<number> {
  const pool = createPool({ connectionString: url, max: 2, logger: createLogger({ name: "orders", level: "silent" }) });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

function notFound(io: CommandIO, id: string): number {
  io.stderr.write(`orders: no order and no events for ${id}\n`);
  return 1;
}

const when = (d: Date | null) => (d === null ? "-" : d.toISOString().replace(/\.\d+Z$/, "Z"));
const clip = (s: string | null, n: number) => (s === null ? "-" : s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The trouble of an order in a few words: what support acts on. */
function why(o: OrderSummary): string {
  const parts: string[] = [];
  if (o.reason !== null) parts.push(o.reason);
  if (o.deadEvents > 0) parts.push(`${o.deadEvents} dead`);
  if (o.pendingEvents > 0 && o.lastError !== null) parts.push(`retrying: ${o.lastError}`);
  else if (o.deadEvents > 0 && o.lastError !== null) parts.push(o.lastError);
  return parts.length === 0 ? "-" : parts.join("; ");
}

export function listTable(orders: readonly OrderSummary[]): string {
  const head = ["SUBSCRIPTION", "STATE", "STRIPE", "DOMAIN", "HOSTEDSITE", "UPDATED", "WHY"];
  const rows = orders.map((o) => [o.subscription, o.state, o.subscriptionStatus ?? "-", o.domain ?? "-", o.site ?? "-", when(o.updatedAt), clip(why(o), 100)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join("  ")}\n`;
  return line(head) + rows.map(line).join("") + (orders.length === 0 ? "(no orders)\n" : "");
}

export function detailText(d: OrderDetail): string {
  const lines: [string, string][] = [
    ["subscription", d.subscription],
    ["state", d.state],
    ["reason", d.reason ?? "-"],
    ["stripe status", d.subscriptionStatus ?? "-"],
    ["customer", `${d.customer ?? "-"} ${d.customerEmail ?? ""}`.trim()],
    ["checkout session", d.checkoutSession ?? "-"],
    ["domain", d.domain ?? "-"],
    ["hostedsite", d.site ?? "-"],
    ["provisioned", d.provisioned ? "yes" : "no"],
    ["past due since", when(d.pastDueSince)],
    ["created", when(d.createdAt)],
    ["updated", when(d.updatedAt)],
    [
      "relay",
      d.outbox === null
        ? "nothing to apply"
        : `version ${d.outbox.version}, applied ${d.outbox.appliedVersion}${d.outbox.appliedAt === null ? "" : ` at ${when(d.outbox.appliedAt)}`}; suspended ${d.outbox.suspended === true ? "yes" : "no"}; expires ${d.outbox.expiresAt ?? "never"}${d.outbox.lastError === null ? "" : `; last error (${d.outbox.attempts} attempts): ${d.outbox.lastError}`}`,
    ],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  const events = d.events.map((e) => `  ${when(e.receivedAt)}  ${e.id}  ${e.type}  ${e.state}${e.attempts > 0 ? ` after ${e.attempts} attempts` : ""}${e.state === "pending" ? `, next ${when(e.nextAttemptAt)}` : ""}${e.lastError === null ? "" : `: ${e.lastError}`}\n`);
  return `${lines.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}\n`).join("")}events (newest first):\n${events.length === 0 ? "  (none kept)\n" : events.join("")}`;
}
