// The chart as a package: helm lint --strict, Chart.yaml against package.json, the copies of
// project files it ships, and values.schema.json (what it refuses, and that it admits nothing the
// code would refuse).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { CONTROLLER_OPTIONS } from "../../controller/cli/controller.ts";
import { LogLevel } from "../../common/config.ts";
import { HttpsMode, MAX_USER_QUOTA, SupportChannel, SupportHours, SupportTier } from "../../crds/hostedsite.ts";
import { DNS1123_LABEL_PATTERN, FQDN_PATTERN, MACHINE_NAME_PATTERN } from "../../crds/primitives.ts";
import { WEBHOOK_OPTIONS } from "../../webhook/config.ts";
import { tempDir } from "../helpers/tmp.ts";
import { HELM_VERSION, allFeaturesValues, chartDir, helm, root, template } from "./helm.ts";

interface SchemaNode {
  type?: string | string[];
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, SchemaNode>;
  definitions?: Record<string, SchemaNode>;
  $ref?: string;
}

const schema = JSON.parse(readFileSync(join(chartDir, "values.schema.json"), "utf8")) as SchemaNode;
const definition = (name: string): SchemaNode => {
  const node = schema.definitions?.[name];
  if (node === undefined) throw new Error(`values.schema.json: no definition ${name}`);
  return node;
};
/** The schema node of a values path, following $refs. */
function schemaAt(path: string): SchemaNode {
  let node: SchemaNode = schema;
  for (const key of path.split(".")) {
    const next = node.properties?.[key];
    if (next === undefined) throw new Error(`values.schema.json: no ${path}`);
    node = next.$ref ? definition(next.$ref.replace("#/definitions/", "")) : next;
  }
  return node;
}

describe("chart metadata and shipped copies", () => {
  const chart = yaml.load(readFileSync(join(chartDir, "Chart.yaml"), "utf8")) as { apiVersion: string; name: string; appVersion: string };
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };

  it("is a v2 chart whose appVersion is package.json's version", () => {
    expect(chart.apiVersion).toBe("v2");
    expect(chart.name).toBe("aegir-operator");
    expect(chart.appVersion).toBe(pkg.version);
  });

  it("ships the webhook's built-in catalog byte for byte (files/default-catalog.yaml)", () => {
    expect(readFileSync(join(chartDir, "files/default-catalog.yaml"))).toEqual(readFileSync(join(root, "webhook/default-catalog.yaml")));
  });

  it("documents every value in charts/README.md", () => {
    const readme = readFileSync(join(root, "charts/README.md"), "utf8");
    const values = yaml.load(readFileSync(join(chartDir, "values.yaml"), "utf8")) as Record<string, unknown>;
    // Maps of free-form content are documented as one value.
    const opaque = new Set(["resources", "catalog"]);
    const leaves = (obj: unknown, prefix: string): string[] =>
      typeof obj === "object" && obj !== null && !Array.isArray(obj) && Object.keys(obj).length > 0 && !opaque.has(prefix.split(".").pop() ?? "")
        ? Object.entries(obj).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k))
        : [prefix];
    const missing = leaves(values, "").filter((path) => !readme.includes(`\`${path}\``));
    expect(missing).toEqual([]);
  });
});

describe("values.schema.json matches the code", () => {
  it("uses the HostedSite enums and patterns for the catalog", () => {
    expect(definition("support").properties?.tier?.enum).toEqual(SupportTier.options);
    expect(definition("support").properties?.hours?.enum).toEqual(SupportHours.options);
    expect((definition("support").properties?.channels as { items: SchemaNode }).items.enum).toEqual(SupportChannel.options);
    expect(definition("httpsMode").enum).toEqual(HttpsMode.options);
    expect(definition("machineName").pattern).toBe(MACHINE_NAME_PATTERN);
    expect(definition("dnsLabel").pattern).toBe(DNS1123_LABEL_PATTERN);
    expect(definition("catalog").properties?.managedZone?.pattern).toBe(FQDN_PATTERN);
    expect(definition("userQuota").maximum).toBe(MAX_USER_QUOTA);
  });

  it("offers exactly the log levels the commands accept", () => {
    expect(definition("logLevel").enum).toEqual(LogLevel.unwrap().options);
  });

  // Each bounded value, at both ends of its schema range, must pass the option's own zod schema.
  const bounded: Array<[string, { schema: { safeParse: (v: unknown) => { success: boolean } } }]> = [
    ["controller.maxConcurrentReconciles", CONTROLLER_OPTIONS.maxConcurrentReconciles],
    ["controller.pollInterval", CONTROLLER_OPTIONS.pollInterval],
    ["controller.driftCheckInterval", CONTROLLER_OPTIONS.driftCheck],
    ["controller.progressPoll", CONTROLLER_OPTIONS.progressPoll],
    ["controller.gracefulShutdownTimeout", CONTROLLER_OPTIONS.gracefulShutdown],
    ["controller.leaderElection.leaseDuration", CONTROLLER_OPTIONS.leaseDuration],
    ["controller.leaderElection.renewDeadline", CONTROLLER_OPTIONS.renewDeadline],
    ["controller.leaderElection.retryPeriod", CONTROLLER_OPTIONS.retryPeriod],
    ["controller.metricsPort", CONTROLLER_OPTIONS.metricsPort],
    ["controller.healthProbePort", CONTROLLER_OPTIONS.probePort],
    ["webhook.port", WEBHOOK_OPTIONS.port],
    ["webhook.bodyLimit", WEBHOOK_OPTIONS.bodyLimit],
    ["webhook.workers", WEBHOOK_OPTIONS.workers],
    ["webhook.maxAttempts", WEBHOOK_OPTIONS.maxAttempts],
  ];
  it.each(bounded)("%s: the schema's range is one the code accepts", (path, option) => {
    const node = schemaAt(path);
    const low = node.minimum ?? 0.001;
    expect(node.maximum, `${path} needs a maximum`).toBeDefined();
    for (const value of [low, node.maximum!]) expect(option.schema.safeParse(String(value)).success, `${path} = ${value}`).toBe(true);
  });
});

describe.skipIf(HELM_VERSION === undefined)("helm lint and schema", () => {
  it("lints --strict with the defaults and with every optional feature on", async () => {
    const defaults = await helm(["lint", "--strict", chartDir]);
    expect(defaults.code, defaults.stdout + defaults.stderr).toBe(0);
    const all = await helm(["lint", "--strict", chartDir, "-f", allFeaturesValues]);
    expect(all.code, all.stdout + all.stderr).toBe(0);
  });

  const dir = tempDir("aegir-operator-chart-");
  const badValues: Array<[string, string, string]> = [
    ["replicas as a word", "controller:\n  replicas: two\n", "/controller/replicas"],
    ["an unknown key", "webhook:\n  replicaCount: 3\n", "replicaCount"],
    ["an unknown top-level key", "replicaCount: 3\n", "replicaCount"],
    ["a support tier the CRD does not have", "webhook:\n  catalog:\n    managedZone: sites.example.org\n    kits:\n      team: { profile: openatrium, userQuota: 5, support: { tier: Gold } }\n    items: {}\n", "/webhook/catalog/kits/team/support/tier"],
    ["a catalog without kits", "webhook:\n  catalog:\n    managedZone: sites.example.org\n", "/webhook/catalog"],
    ["a log level", "controller:\n  logLevel: verbose\n", "/controller/logLevel"],
    ["a port out of range", "webhook:\n  port: 70000\n", "/webhook/port"],
    ["a duration without unit", "webhook:\n  pastDueGrace: \"7\"\n", "/webhook/pastDueGrace"],
    ["a secret value where a Secret name belongs", "webhook:\n  stripe:\n    apiKey: sk_live_123\n", "apiKey"],
    ["a customer namespace that is no DNS label", "customerNamespaces: [Customers]\n", "/customerNamespaces/0"],
  ];
  it.each(badValues)("refuses %s, naming the field", async (_what, values, field) => {
    const file = join(dir, `bad-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, values);
    const result = await helm(["template", "x", chartDir, "-f", file]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(field);
  });

  const inconsistent: Array<[string, string[], string]> = [
    ["several controllers without leader election", ["--set", "controller.leaderElection.enabled=false"], "controller.leaderElection.enabled"],
    ["a HostedSite namespace the webhook has no Role in", ["--set", "webhook.hostedSiteNamespace=elsewhere"], "customerNamespaces"],
    ["an Ingress without a host", ["--set", "webhook.ingress.enabled=true"], "webhook.ingress.host"],
  ];
  it.each(inconsistent)("refuses %s", async (_what, args, message) => {
    await expect(template(...args)).rejects.toThrow(message);
  });

  it("accepts one controller without leader election", async () => {
    await expect(template("--set", "controller.leaderElection.enabled=false", "--set", "controller.replicas=1")).resolves.toBeDefined();
  });
});
