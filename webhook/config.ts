// `aegir-operator webhook` options: flag, environment variable and zod schema, declared once.
import { z } from "zod";
import { LogLevel, port, type ConfigOf } from "../common/config.ts";
import { dns1123Label } from "../crds/primitives.ts";
import { STOREFRONT_OPTIONS } from "./storefront/options.ts";

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration like `500ms`, `30s`, `15m`, `36h`, `7d`, as milliseconds. */
export const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const match = DURATION.exec(value.trim());
      if (match === null) {
        ctx.addIssue({ code: "custom", message: "must be a duration like 90s, 15m, 36h or 7d" });
        return z.NEVER;
      }
      return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
    });

const count = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

const secretList = z
  .string({ error: "is required" })
  .transform((v) => v.split(",").map((s) => s.trim()).filter((s) => s !== ""))
  .pipe(z.array(z.string().regex(/^whsec_[A-Za-z0-9+/=_-]+$/, { error: "each secret must look like whsec_..." })).min(1, { error: "needs at least one secret" }).max(8));

export const WEBHOOK_OPTIONS = {
  host: { flag: "host", env: "WEBHOOK_HOST", schema: z.string().min(1).default("127.0.0.1"), description: "address to listen on; 0.0.0.0 in a pod (default 127.0.0.1)" },
  port: { flag: "port", env: "WEBHOOK_PORT", schema: port(8090), description: "port for /stripe/webhook, /healthz, /readyz, /metrics (default 8090)" },
  webhookSecrets: {
    flag: "webhook-secrets",
    env: "STRIPE_WEBHOOK_SECRETS",
    schema: secretList,
    description: "endpoint signing secrets, comma-separated (several while a secret is rolled)",
    secret: true,
  },
  apiKey: { flag: "stripe-api-key", env: "STRIPE_API_KEY", schema: z.string().regex(/^(sk|rk)_[A-Za-z0-9_]+$/, { error: "must be a Stripe secret or restricted key (sk_... or rk_...)" }), description: "Stripe API key used to re-read subscriptions", secret: true },
  apiBase: {
    flag: "stripe-api-base",
    env: "STRIPE_API_BASE",
    schema: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional().transform((u) => (u === undefined ? undefined : new URL(u))),
    description: "Stripe API address (a local stub in tests); api.stripe.com when unset",
  },
  tolerance: { flag: "signature-tolerance", env: "STRIPE_SIGNATURE_TOLERANCE", schema: duration("300s").refine((ms) => ms >= 1_000, { error: "must be at least 1s" }), description: "largest signature timestamp difference accepted, past or future (default 300s)" },
  bodyLimit: { flag: "body-limit", env: "WEBHOOK_BODY_LIMIT", schema: z.coerce.number().int().min(1_024).max(16 * 1024 * 1024).default(1024 * 1024), description: "largest request body in bytes (default 1048576)" },
  databaseUrl: {
    flag: "database-url",
    env: "DATABASE_URL",
    schema: z.url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// URL" }).optional(),
    description: "PostgreSQL server; an embedded PostgreSQL is started when unset",
    secret: true,
  },
  postgresDir: { flag: "postgres-dir", env: "POSTGRES_DIR", schema: z.string().min(1).default(".sandbox/postgres"), description: "data directory of the embedded PostgreSQL (default .sandbox/postgres)" },
  postgresPort: { flag: "postgres-port", env: "POSTGRES_PORT", schema: port(0), description: "port of the embedded PostgreSQL (0: any free port)" },
  catalog: { flag: "catalog", env: "CATALOG_FILE", schema: z.string().min(1).optional(), description: "service catalog YAML; the built-in catalog when unset" },
  namespace: { flag: "namespace", env: "HOSTEDSITE_NAMESPACE", schema: dns1123Label().default("customers"), description: "namespace of the HostedSites created (default customers)" },
  pastDueGrace: { flag: "past-due-grace", env: "PAST_DUE_GRACE", schema: duration("7d"), description: "how long a past-due site keeps running before it is suspended (default 7d)" },
  expireAfter: { flag: "expire-after", env: "EXPIRE_AFTER", schema: duration("14d"), description: "spec.expiresAt of a canceled subscription's site, after its end (default 14d)" },
  retention: {
    flag: "event-retention",
    env: "WEBHOOK_EVENT_RETENTION",
    schema: duration("45d").refine((ms) => ms >= 31 * 86_400_000, { error: "must be at least 31d: Stripe resends events up to 30 days old" }),
    description: "how long processed event ids are kept for deduplication (default 45d)",
  },
  workers: { flag: "workers", env: "WEBHOOK_WORKERS", schema: count(4, 64), description: "concurrent inbox workers in this process (default 4)" },
  maxAttempts: { flag: "max-attempts", env: "WEBHOOK_MAX_ATTEMPTS", schema: count(12, 1000), description: "failed processing attempts after which an event counts as stuck (metric, error log); it keeps retrying (default 12)" },
  retryBase: { flag: "retry-base", env: "WEBHOOK_RETRY_BASE", schema: duration("1s"), description: "first retry delay; doubles per attempt (default 1s)" },
  retryMax: { flag: "retry-max", env: "WEBHOOK_RETRY_MAX", schema: duration("10m"), description: "longest retry delay (default 10m)" },
  logLevel: { flag: "log-level", env: "LOG_LEVEL", schema: LogLevel, description: "fatal, error, warn, info, debug, trace or silent (default info)" },
  ...STOREFRONT_OPTIONS,
};

export type WebhookConfig = ConfigOf<typeof WEBHOOK_OPTIONS>;
