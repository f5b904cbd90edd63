// `aegir-operator sandbox`: the whole stack on 127.0.0.1 with embedded defaults, for trying it
// out (`npm start`). `aegir-operator sandbox order ...` places a test order through the real
// webhook path of a running sandbox. It runs this harness, so it is a command of a checkout
// (bin.ts beside this file), not of the image.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { API_VERSION } from "../../crds/group.ts";
import { ConfigError, describeOptions, loadConfig, parseArgs, port } from "../../common/config.ts";
import { createLogger } from "../../common/logger.ts";
import { type Command, type CommandIO, USAGE_ERROR } from "../../controller/cli/command.ts";
import type { OrderReceipt, SandboxInfo } from "./sandbox.ts";

const OPTIONS = {
  dir: { flag: "dir", env: "SANDBOX_DIR", schema: z.string().default(".sandbox"), description: "where the kubeconfig, logs, keys and PostgreSQL data go" },
  apiPort: { flag: "api-port", env: "SANDBOX_API_PORT", schema: port(6443), description: "Kubernetes API server port" },
  webhookPort: { flag: "webhook-port", env: "SANDBOX_WEBHOOK_PORT", schema: port(8090), description: "Stripe webhook port" },
  metricsPort: { flag: "metrics-port", env: "SANDBOX_METRICS_PORT", schema: port(8080), description: "controller /metrics port" },
  probePort: { flag: "health-probe-port", env: "SANDBOX_PROBE_PORT", schema: port(8081), description: "controller /healthz and /readyz port" },
  aegirPort: { flag: "aegir-port", env: "SANDBOX_AEGIR_PORT", schema: port(8099), description: "simulated Aegir state (GET /state) port" },
  controlPort: { flag: "control-port", env: "SANDBOX_CONTROL_PORT", schema: port(8098), description: "port `sandbox order` talks to" },
  drushLatency: { flag: "drush-latency", env: "SANDBOX_DRUSH_LATENCY_MS", schema: z.coerce.number().min(0).max(60_000).default(1_000), description: "simulated drush bootstrap per command, ms (before the time factor)" },
  timeFactor: { flag: "time-factor", env: "SANDBOX_TIME_FACTOR", schema: z.coerce.number().min(0).max(10).default(0.02), description: "scales every simulated duration (0.02: a 3-minute install takes 3.6 s)" },
  examples: { flag: "examples", env: "SANDBOX_EXAMPLES", schema: z.enum(["true", "false"]).default("true").transform((v) => v === "true"), description: "apply the example HostedSites and HostedSpaces" },
} as const;

const ORDER_OPTIONS = {
  dir: OPTIONS.dir,
  kit: { flag: "kit", schema: z.enum(["demo", "community", "business", "enterprise"]), description: "product kit (demo: a space in the shared demo site)" },
  domain: { flag: "domain", schema: z.string().optional(), description: "the customer's own domain" },
  subdomain: { flag: "subdomain", schema: z.string().optional(), description: "a subdomain of the managed zone (when no --domain)" },
  email: { flag: "email", schema: z.string().optional(), description: "the customer's e-mail" },
  users: { flag: "users", schema: z.coerce.number().int().min(0).max(10_000).optional(), description: "extra users on top of the kit's quota" },
} as const;

export const sandboxCommand: Command = {
  name: "sandbox",
  usage: `usage: aegir-operator sandbox [options]          run the whole stack on 127.0.0.1 (Ctrl-C stops it)
       aegir-operator sandbox order --kit KIT [--domain D | --subdomain S] [--email E] [--users N]

${describeOptions(OPTIONS)}

order:
${describeOptions(ORDER_OPTIONS)}`,

  async run(argv, io) {
    try {
      if (argv[0] === "order") return await order(argv.slice(1), io);
      return await run(argv, io);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      io.stderr.write(`sandbox: ${error.message}\n`);
      return USAGE_ERROR;
    }
  },
};

async function run(argv: readonly string[], io: CommandIO): Promise<number> {
  const config = loadConfig(OPTIONS, parseArgs(argv).flags, process.env);
  const { startSandbox } = await import("./sandbox.ts");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(config.dir, { recursive: true });
  const logFile = join(config.dir, "sandbox.log");
  const { pino } = await import("pino");
  const log = createLogger({ name: "sandbox", level: "info", destination: pino.destination({ dest: logFile, sync: false }) });
  const started = Date.now();
  io.stdout.write("Starting the aegir-operator sandbox on 127.0.0.1 ...\n");
  const sandbox = await startSandbox({
    dir: config.dir,
    ports: { api: config.apiPort, webhook: config.webhookPort, metrics: config.metricsPort, probes: config.probePort, aegirState: config.aegirPort, control: config.controlPort },
    latency: { commandMs: config.drushLatency, timeFactor: config.timeFactor },
    examples: config.examples,
    log,
  });
  const i = sandbox.info;
  const rows: Array<[string, string]> = [
    ["storefront", `${i.storefront}  (buy a site in a browser)`],
    ["kubeconfig", i.kubeconfig],
    ["try", `KUBECONFIG=${i.kubeconfig} kubectl get hostedsites -w`],
    ["", `KUBECONFIG=${i.kubeconfig} kubectl describe hs initech`],
    ["", `KUBECONFIG=${i.kubeconfig} kubectl get aegirservers`],
    ["", `KUBECONFIG=${i.kubeconfig} kubectl get hostedspaces`],
    ["order", "npx aegir-operator sandbox order --kit business --domain intranet.example.org"],
    ["", "npx aegir-operator sandbox order --kit demo --subdomain tinker"],
    ["Stripe webhook", i.webhookUrl],
    ["signing secret", i.webhookSecret],
    ["metrics", `${i.metrics}  (webhook: ${i.webhookMetrics})`],
    ["readiness", i.probes],
    ["Aegir state", i.aegirState],
    ["logs", logFile],
  ];
  io.stdout.write(`Ready in ${((Date.now() - started) / 1000).toFixed(1)} s.\n\n${rows.map(([k, v]) => `  ${k.padEnd(15)} ${v}`).join("\n")}\n\nSites and spaces converging (Ctrl-C stops everything):\n`);

  // Live progress: one line whenever a site's or a space's Ready condition changes or its owner is welcomed.
  const progress = (await import("./sandbox-progress.ts")).progressLines();
  const unsubscribe = sandbox.api.objects.onChange((_type, object) => {
    for (const line of progress(object, new Date())) io.stdout.write(`${line}\n`);
  });

  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  io.stdout.write("\nStopping ...\n");
  unsubscribe();
  await sandbox.stop();
  log.flush();
  io.stdout.write("Stopped.\n");
  return 0;
}

async function order(argv: readonly string[], io: CommandIO): Promise<number> {
  const o = loadConfig(ORDER_OPTIONS, parseArgs(argv).flags, process.env);
  let info: Pick<SandboxInfo, "control" | "kubeconfig" | "aegirState">;
  try {
    info = JSON.parse(readFileSync(join(o.dir, "sandbox.json"), "utf8")) as SandboxInfo;
  } catch {
    io.stderr.write(`sandbox order: no running sandbox found in ${o.dir} (start one with npm start)\n`);
    return 1;
  }
  const body = { kit: o.kit, ...(o.domain ? { domain: o.domain } : {}), ...(o.subdomain ? { subdomain: o.subdomain } : {}), ...(o.email ? { email: o.email } : {}), ...(o.users ? { users: o.users } : {}) };
  const response = await fetch(`${info.control}/orders`, { method: "POST", body: JSON.stringify(body) }).catch(() => undefined);
  if (response === undefined) {
    io.stderr.write(`sandbox order: the sandbox at ${info.control} does not answer; is it running?\n`);
    return 1;
  }
  const result = (await response.json()) as Partial<OrderReceipt> & { error?: string };
  if (!response.ok || result.object === undefined) {
    io.stderr.write(`sandbox order: ${result.error ?? `webhook answered ${result.webhookStatus}`}\n`);
    return 1;
  }
  const { kind, namespace, name, sharedSite } = result.object;
  const what = kind === "HostedSpace" ? `the HostedSpace ${namespace}/${name}, a space in the shared site ${sharedSite}` : `the HostedSite ${namespace}/${name}`;
  io.stdout.write(
    `Order placed: subscription ${result.subscription}, accepted by the webhook (${result.webhookStatus}).\n` +
      `It becomes ${what}, owned by ${result.email}, who is welcomed once by mail with a one-time login link.\n` +
      `Watch it:          KUBECONFIG=${info.kubeconfig} kubectl get ${kind === "HostedSpace" ? "hsp" : "hs"} -l ${API_VERSION.split("/")[0]}/stripe-subscription=${result.subscription} -w\n` +
      `The welcome mail:  ${info.aegirState} (sites[].drupal.outbox)\n`,
  );
  return 0;
}
