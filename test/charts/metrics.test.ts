// The alerts and the dashboard query metrics the code really registers: names are collected from
// the controller's and the webhook's registries, built by their own modules.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ControllerMetrics } from "../../controller/metrics.ts";
import { sitePoolMetrics } from "../../controller/sitepool-metrics.ts";
import { createMetrics } from "../../webhook/metrics.ts";
import { HELM_VERSION, type K8sObject, allFeaturesValues, chartDir, find, only, template } from "./helm.ts";

/** Series names a registry exposes: histograms as _bucket/_sum/_count, summaries also bare. */
async function seriesNames(): Promise<Set<string>> {
  const controller = new ControllerMetrics().registry;
  sitePoolMetrics(controller);
  const registries = [controller, createMetrics({ inboxDepth: () => Promise.resolve(0), stuckEvents: () => Promise.resolve(0) }).registry];
  const names = new Set<string>();
  for (const registry of registries) {
    for (const metric of await registry.getMetricsAsJSON()) {
      const type = String(metric.type);
      if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(metric.name + suffix);
      else if (type === "summary") for (const suffix of ["", "_sum", "_count"]) names.add(metric.name + suffix);
      else names.add(metric.name);
    }
  }
  return names;
}

const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"]);

/** Metric names in a PromQL expression: what is left once strings, matchers, ranges, groupings, variables and functions are gone. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/#.*$/gm, " ")
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\$\{?\w+\}?/g, " ");
  const names: string[] = [];
  for (const match of stripped.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)) {
    const name = match[1]!;
    if (!KEYWORDS.has(name.toLowerCase())) names.push(name);
  }
  return names;
}

describe("metric name extraction", () => {
  it("finds metrics and ignores functions, labels, durations and variables", () => {
    expect(
      metricNames('histogram_quantile(0.99, sum by (controller, le) (rate(a_bucket{job="x", namespace="$namespace"}[$__rate_interval]))) / on(job) group_left b_total > 1e3 or absent(c)'),
    ).toEqual(["a_bucket", "b_total", "c"]);
  });
});

interface Panel {
  title: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ type: string; query?: string | { query: string } }> };
}

const dashboard = JSON.parse(readFileSync(join(chartDir, "files/dashboards/aegir-operator.json"), "utf8")) as Dashboard;

describe("Grafana dashboard", () => {
  let known: Set<string>;
  beforeAll(async () => {
    known = await seriesNames();
  });

  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.targets !== undefined);
  it.each(panels.map((p) => [p.title, p] as const))("%s queries registered metrics", (_title, panel) => {
    for (const { expr } of panel.targets!) {
      const names = metricNames(expr);
      expect(names, expr).not.toEqual([]);
      for (const name of names) expect(known.has(name), `${name} in ${expr}`).toBe(true);
    }
  });

  it("has template variables over registered metrics", () => {
    for (const variable of dashboard.templating.list.filter((v) => v.type === "query")) {
      const query = typeof variable.query === "string" ? variable.query : variable.query!.query;
      const metric = /^label_values\(\s*([a-zA-Z_:][\w:]*)/.exec(query)?.[1];
      expect(metric, query).toBeDefined();
      expect(known.has(metric!), query).toBe(true);
    }
  });
});

interface PrometheusRule extends K8sObject {
  spec: { groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; for?: string; labels: { severity: string } }> }> };
}

describe.skipIf(HELM_VERSION === undefined)("PrometheusRule", () => {
  let known: Set<string>;
  let objects: K8sObject[];
  let rules: PrometheusRule["spec"]["groups"][number]["rules"];
  beforeAll(async () => {
    known = await seriesNames();
    ({ objects } = await template("-f", allFeaturesValues));
    rules = (only(objects, "PrometheusRule") as PrometheusRule).spec.groups.flatMap((g) => g.rules);
  });

  it("alerts only on registered metrics", () => {
    for (const rule of rules) {
      const names = metricNames(rule.expr);
      expect(names, rule.alert).not.toEqual([]);
      for (const name of names) expect(known.has(name), `${rule.alert}: ${name}`).toBe(true);
      expect(["warning", "critical"]).toContain(rule.labels.severity);
    }
  });

  it("covers reconcile errors, sites not Ready, webhook failures and dead letters", () => {
    const byMetric = (metric: string) => rules.filter((r) => metricNames(r.expr).includes(metric)).map((r) => r.alert);
    expect(byMetric("controller_runtime_reconcile_errors_total")).not.toEqual([]);
    expect(byMetric("aegir_hostedsites")).not.toEqual([]);
    expect(byMetric("stripe_webhook_signature_failures_total")).not.toEqual([]);
    expect(byMetric("stripe_webhook_relay_failures_total")).not.toEqual([]);
    expect(byMetric("stripe_webhook_dead_lettered_total")).not.toEqual([]);
    expect(rules.find((r) => r.alert === "AegirHostedSitesNotReady")?.for).toBe("3h");
  });

  it("selects series by the job labels the ServiceMonitors produce (the Service names)", () => {
    const services = new Set(find(objects, "ServiceMonitor").map((m) => m.metadata.name));
    for (const rule of rules) {
      const jobs = [...rule.expr.matchAll(/job="([^"]+)"/g)].map((m) => m[1]);
      expect(jobs, rule.alert).not.toEqual([]);
      for (const job of jobs) expect(services.has(job!), `${rule.alert}: job ${job}`).toBe(true);
    }
  });
});
