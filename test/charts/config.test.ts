// The chart cannot drift from the code: every argument and environment variable the Deployments
// pass goes through the commands' real config parsers, and the probe and scrape paths are asked
// of the real HTTP endpoints.
import type { AddressInfo } from "node:net";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../../controller/cli.ts";
import { CONTROLLER_OPTIONS } from "../../controller/cli/controller.ts";
import { type OptionSpecs, loadConfig, parseArgs } from "../../common/config.ts";
import { type Endpoint, serveMetrics, serveProbes } from "../../controller/http-endpoints.ts";
import { createLogger } from "../../common/logger.ts";
import { ControllerMetrics } from "../../controller/metrics.ts";
import { WEBHOOK_OPTIONS } from "../../webhook/config.ts";
import { createMetrics } from "../../webhook/metrics.ts";
import { WEBHOOK_PATH, buildServer } from "../../webhook/server.ts";
import {
  type Container,
  HELM_VERSION,
  type K8sObject,
  NAMESPACE,
  allFeaturesValues,
  configMap,
  container,
  controllerName,
  deployment,
  find,
  template,
  webhookName,
} from "./helm.ts";

/** What the kubelet would put in the environment; Secrets get placeholders of the right shape. */
const SECRET_PLACEHOLDERS: Record<string, string> = {
  STRIPE_API_KEY: "rk_test_chartplaceholder",
  STRIPE_WEBHOOK_SECRETS: "whsec_chartplaceholder",
  DATABASE_URL: "postgres://aegir:placeholder@postgres.example:5432/aegir",
};
const POD_NAME = "aegir-operator-controller-7d9f8b6c5-x2x9q";

function resolveEnv(objects: readonly K8sObject[], c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    expect(from.secretRef, "secrets come one key at a time, by name").toBeUndefined();
    Object.assign(env, configMap(objects, from.configMapRef!.name).data);
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) {
      expect(e.valueFrom.fieldRef.fieldPath).toBe("metadata.name");
      env[e.name] = POD_NAME;
    } else if (e.valueFrom?.secretKeyRef) {
      const placeholder = SECRET_PLACEHOLDERS[e.name];
      expect(placeholder, `${e.name} from a Secret`).toBeDefined();
      env[e.name] = placeholder!;
    } else if (e.valueFrom?.configMapKeyRef) {
      env[e.name] = configMap(objects, e.valueFrom.configMapKeyRef.name).data[e.valueFrom.configMapKeyRef.key]!;
    } else throw new Error(`${e.name}: unsupported env source`);
  }
  return env;
}

/** The flags and environment of a container, checked against the command's options. */
function commandLine(objects: readonly K8sObject[], deploymentName: string, options: OptionSpecs) {
  const c = container(objects, deploymentName);
  const [command, ...argv] = c.args ?? [];
  expect(COMMANDS.map((entry) => entry.name)).toContain(command);
  for (const arg of argv) expect(arg, "no $(VAR) expansion: the parsers see what the chart wrote").not.toContain("$(");
  const { flags, positionals } = parseArgs(argv);
  expect(positionals).toEqual([]);
  const env = resolveEnv(objects, c);
  // loadConfig ignores variables it does not know: a misspelt one would be silently lost.
  const known = new Set(Object.values(options).map((o) => o.env));
  expect(Object.keys(env).filter((name) => !known.has(name))).toEqual([]);
  // A secret must never travel as a flag (visible in the pod spec and `ps`) or through a ConfigMap.
  for (const spec of Object.values(options).filter((o) => o.secret)) {
    expect(flags.has(spec.flag), `--${spec.flag}`).toBe(false);
    const entry = c.env?.find((e) => e.name === spec.env);
    expect(entry?.valueFrom?.secretKeyRef, `${spec.env} from a Secret`).toBeDefined();
  }
  return { c, flags, env };
}

const portOf = (c: Container, name: string | number) => (typeof name === "number" ? name : c.ports?.find((p) => p.name === name)?.containerPort);

describe.skipIf(HELM_VERSION === undefined)("the chart against the commands' config parsers", () => {
  const cases = [
    { name: "defaults", args: [] as string[] },
    { name: "every optional feature", args: ["-f", allFeaturesValues] },
  ];

  describe.each(cases)("$name", ({ args }) => {
    let objects: K8sObject[];
    beforeAll(async () => {
      ({ objects } = await template(...args));
    });

    it("the controller accepts its arguments and environment", () => {
      const { c, flags, env } = commandLine(objects, controllerName, CONTROLLER_OPTIONS);
      const config = loadConfig(CONTROLLER_OPTIONS, flags, env);
      expect(config.kubeconfig, "in-cluster service account").toBeUndefined();
      expect(config.leaderElect).toBe(true);
      expect(config.leaseNamespace).toBe(NAMESPACE);
      expect(config.identity).toBe(POD_NAME);
      expect(config.sshKeyFile, "keys come from the AegirServers' Secrets").toBeUndefined();
      expect(config.bindAddress).toBe("0.0.0.0");
      expect(portOf(c, "metrics")).toBe(config.metricsPort);
      expect(portOf(c, "health")).toBe(config.probePort);
      // The pod outlives the controller's own grace period for drush calls in flight.
      const pod = deployment(objects, controllerName).spec.template.spec as { terminationGracePeriodSeconds?: number };
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(config.gracefulShutdown);
    });

    it("the webhook accepts its arguments and environment", () => {
      const { c, flags, env } = commandLine(objects, webhookName, WEBHOOK_OPTIONS);
      const config = loadConfig(WEBHOOK_OPTIONS, flags, env);
      expect(config.host).toBe("0.0.0.0");
      expect(portOf(c, "http")).toBe(config.port);
      expect(config.databaseUrl, "never the embedded PostgreSQL in a cluster").toBeDefined();
      expect(config.webhookSecrets).toEqual([SECRET_PLACEHOLDERS.STRIPE_WEBHOOK_SECRETS]);
      expect(config.apiKey).toBe(SECRET_PLACEHOLDERS.STRIPE_API_KEY);
      // The catalog file is the catalog ConfigMap's key, mounted read-only.
      const mount = c.volumeMounts?.find((m) => config.catalog?.startsWith(`${m.mountPath}/`));
      expect(mount?.readOnly).toBe(true);
      const volume = deployment(objects, webhookName).spec.template.spec.volumes?.find((v) => v.name === mount?.name);
      expect(volume?.configMap?.name).toBe(`${webhookName}-catalog`);
      expect(Object.keys(configMap(objects, `${webhookName}-catalog`).data)).toContain(config.catalog?.slice(mount!.mountPath.length + 1));
    });
  });
});

describe.skipIf(HELM_VERSION === undefined)("probe and scrape paths against the real endpoints", () => {
  let objects: K8sObject[];
  const endpoints: Endpoint[] = [];
  let metricsUrl: string;
  let probesUrl: string;
  const webhookMetrics = createMetrics({ inboxDepth: () => Promise.resolve(0), stuckEvents: () => Promise.resolve(0), processMetrics: false });
  // readyz asks PostgreSQL for the migrations table; this pool answers as a migrated database would.
  const pool = { query: () => Promise.resolve({ rows: [{ "?column?": 1 }], rowCount: 1 }) } as unknown as pg.Pool;
  const app = buildServer({ pool, secrets: ["whsec_probe"], toleranceSeconds: 300, bodyLimit: 1_048_576, metrics: webhookMetrics, logger: createLogger({ name: "chart-test", level: "silent" }) });

  beforeAll(async () => {
    ({ objects } = await template("-f", allFeaturesValues));
    const metrics = new ControllerMetrics();
    endpoints.push(await serveMetrics(metrics.registry, "127.0.0.1", 0), await serveProbes(() => true, "127.0.0.1", 0));
    metricsUrl = `http://127.0.0.1:${(endpoints[0]!.server.address() as AddressInfo).port}`;
    probesUrl = `http://127.0.0.1:${(endpoints[1]!.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await Promise.all(endpoints.map((e) => e.close()));
    await app.close();
  });

  it("the controller serves its liveness and readiness paths on the health port", async () => {
    const c = container(objects, controllerName);
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe].filter((p) => p !== undefined)) {
      const get = probe.httpGet!;
      expect(portOf(c, get.port), "probes go to the health port").toBe(portOf(c, "health"));
      expect((await fetch(`${probesUrl}${get.path}`)).status, get.path).toBe(200);
      expect((await fetch(`${metricsUrl}${get.path}`)).status, `${get.path} is not on the metrics port`).toBe(404);
    }
  });

  it("the webhook serves its liveness and readiness paths on its one port", async () => {
    const c = container(objects, webhookName);
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe].filter((p) => p !== undefined)) {
      const get = probe.httpGet!;
      expect(portOf(c, get.port)).toBe(portOf(c, "http"));
      expect((await app.inject({ method: "GET", url: get.path })).statusCode, get.path).toBe(200);
    }
    // The Ingress path is the webhook's route: an unsigned delivery is refused, not unknown.
    const unsigned = await app.inject({ method: "POST", url: WEBHOOK_PATH, headers: { "content-type": "application/json" }, payload: "{}" });
    expect(unsigned.statusCode).toBe(400);
  });

  it("the ServiceMonitors scrape paths that answer with metrics", async () => {
    const monitors = find(objects, "ServiceMonitor") as Array<K8sObject & { spec: { endpoints: Array<{ port: string; path: string }> } }>;
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual([controllerName, webhookName]);
    for (const monitor of monitors) {
      const [endpoint] = monitor.spec.endpoints;
      const service = find(objects, "Service", monitor.metadata.name)[0] as K8sObject & { spec: { ports: Array<{ name: string; targetPort: string }> } };
      const target = service.spec.ports.find((p) => p.name === endpoint!.port)?.targetPort;
      if (monitor.metadata.name === controllerName) {
        expect(target).toBe("metrics");
        const response = await fetch(`${metricsUrl}${endpoint!.path}`);
        expect(response.status).toBe(200);
        expect(await response.text()).toContain("controller_runtime_reconcile_total");
      } else {
        expect(target).toBe("http");
        const response = await app.inject({ method: "GET", url: endpoint!.path });
        expect(response.statusCode).toBe(200);
        expect(response.body).toContain("stripe_webhook_events_received_total");
      }
    }
  });
});
