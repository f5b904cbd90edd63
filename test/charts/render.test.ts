// What `helm template` renders, with the defaults and with every optional feature on: the objects,
// their wiring (selectors, ports, service accounts), hardening, and RBAC equal to rbac.yaml.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { parseCatalog } from "../../webhook/catalog.ts";
import { WEBHOOK_PATH } from "../../webhook/server.ts";
import {
  type ConfigMap,
  type Deployment,
  HELM_VERSION,
  type K8sObject,
  NAMESPACE,
  allFeaturesValues,
  chartDir,
  configMap,
  container,
  controllerName,
  deployment,
  find,
  only,
  root,
  selects,
  template,
  webhookName,
} from "./helm.ts";

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
interface RbacObject extends K8sObject {
  rules?: PolicyRule[];
  roleRef?: { kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace: string }>;
}

const rbacSource = yaml.loadAll(readFileSync(join(chartDir, "rbac.yaml"), "utf8")) as RbacObject[];
const sourceRules = (kind: string, name: string): PolicyRule[] => {
  const found = rbacSource.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found?.rules) throw new Error(`rbac.yaml: no ${kind} ${name}`);
  return found.rules;
};

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
const allFeatures = yaml.load(readFileSync(allFeaturesValues, "utf8")) as { customerNamespaces: string[]; webhook: { hostedSiteNamespace: string; catalog: unknown } };

const SECRET_LOOKING = [/sk_(live|test)_/, /rk_(live|test)_/, /whsec_/, /postgres(ql)?:\/\/[^\s"']*@/, /BEGIN [A-Z ]*PRIVATE KEY/];

const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"]);

describe.skipIf(HELM_VERSION === undefined)("helm template", () => {
  const cases = [
    { name: "defaults", args: [] as string[], customerNamespaces: ["customers"], hostedSiteNamespace: "customers" },
    { name: "every optional feature", args: ["-f", allFeaturesValues], customerNamespaces: allFeatures.customerNamespaces, hostedSiteNamespace: allFeatures.webhook.hostedSiteNamespace },
  ];

  describe.each(cases)("$name", ({ name, args, customerNamespaces, hostedSiteNamespace }) => {
    let objects: K8sObject[];
    let text: string;
    beforeAll(async () => {
      ({ objects, text } = await template(...args));
    });
    const all = name !== "defaults";

    it("renders the expected objects", () => {
      const count = (kind: string) => find(objects, kind).length;
      expect(count("Deployment")).toBe(2);
      expect(count("ServiceAccount")).toBe(2);
      expect(count("Service")).toBe(2);
      expect(count("PodDisruptionBudget")).toBe(2);
      expect(count("NetworkPolicy")).toBe(2);
      expect(count("ClusterRole")).toBe(1);
      expect(count("ClusterRoleBinding")).toBe(1);
      expect(count("Role")).toBe(1 + customerNamespaces.length);
      expect(count("RoleBinding")).toBe(1 + customerNamespaces.length);
      expect(count("ConfigMap")).toBe(all ? 4 : 3);
      expect(count("Ingress")).toBe(all ? 1 : 0);
      expect(count("ServiceMonitor")).toBe(all ? 2 : 0);
      expect(count("PrometheusRule")).toBe(all ? 1 : 0);
      expect(count("Namespace")).toBe(all ? customerNamespaces.length : 0);
      expect(count("Secret")).toBe(0);
      for (const o of objects) {
        if (CLUSTER_SCOPED.has(o.kind)) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBeUndefined();
        else expect(o.metadata.namespace, `${o.kind}/${o.metadata.name} needs a namespace`).toBeTruthy();
        expect(o.metadata.labels?.["app.kubernetes.io/instance"], `${o.kind}/${o.metadata.name}`).toBe("aegir-operator");
      }
    });

    it("runs the image of this version, with the commands of its ENTRYPOINT", () => {
      const expected = all ? /^registry\.example\.org\/hosting\/aegir-operator@sha256:[0-9a-f]{64}$/ : new RegExp(`^aegir-operator:${pkg.version.replace(/\./g, "\\.")}$`);
      // The Dockerfile's ENTRYPOINT is `node controller/bin.ts`: the chart passes the command as args.
      expect(readFileSync(join(root, "Dockerfile"), "utf8")).toMatch(/^ENTRYPOINT \["node", "controller\/bin\.ts"\]$/m);
      for (const [deploymentName, command] of [[controllerName, "controller"], [webhookName, "webhook"]] as const) {
        const c = container(objects, deploymentName);
        expect(c.image).toMatch(expected);
        expect(c.command).toBeUndefined();
        expect(c.args?.[0]).toBe(command);
      }
    });

    it("runs two replicas of each, kept through disruptions by a PDB that selects them", () => {
      for (const deploymentName of [controllerName, webhookName]) {
        const d = deployment(objects, deploymentName);
        expect(d.spec.replicas).toBe(all && deploymentName === webhookName ? 3 : 2);
        expect(selects(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
        const pdb = only(objects, "PodDisruptionBudget", deploymentName) as K8sObject & { spec: { minAvailable: number | string; selector: { matchLabels: Record<string, string> } } };
        expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
        if (typeof pdb.spec.minAvailable === "number") expect(pdb.spec.minAvailable).toBeLessThan(d.spec.replicas);
        // The replicas of one component must not select the other's pods.
        const other = deployment(objects, deploymentName === controllerName ? webhookName : controllerName);
        expect(selects(d.spec.selector.matchLabels, other.spec.template.metadata.labels)).toBe(false);
      }
    });

    it("hardens every pod and container", () => {
      for (const d of find(objects, "Deployment") as Deployment[]) {
        const pod = d.spec.template.spec;
        expect(pod.securityContext?.runAsNonRoot).toBe(true);
        // The image's USER is the name `node`: without a numeric id the kubelet cannot check runAsNonRoot.
        expect(pod.securityContext?.runAsUser).toBe(1000);
        expect(pod.securityContext?.seccompProfile).toEqual({ type: "RuntimeDefault" });
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          const where = `${d.metadata.name}/${c.name}`;
          expect(c.securityContext, where).toMatchObject({
            runAsNonRoot: true,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
          });
          expect(c.securityContext?.capabilities).not.toHaveProperty("add");
          const tmp = c.volumeMounts?.find((m) => m.mountPath === "/tmp");
          expect(tmp, `${where}: a writable /tmp`).toBeDefined();
          expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir, `${where}: /tmp is an emptyDir`).toBeDefined();
          expect(c.resources?.requests?.memory, where).toBeDefined();
          expect(c.resources?.limits?.memory, where).toBeDefined();
        }
      }
    });

    it("renders no secret values, only references to Secrets", () => {
      for (const pattern of SECRET_LOOKING) expect(text).not.toMatch(pattern);
      const env = container(objects, webhookName).env ?? [];
      for (const name of ["STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRETS", "DATABASE_URL", ...(all ? ["STOREFRONT_FORM_KEY"] : [])]) {
        const entry = env.find((e) => e.name === name);
        expect(entry?.value, name).toBeUndefined();
        expect(entry?.valueFrom?.secretKeyRef?.name, name).toBeTruthy();
      }
      for (const cm of find(objects, "ConfigMap") as ConfigMap[]) {
        for (const key of Object.keys(cm.data)) expect(key).not.toMatch(/STRIPE_API_KEY|WEBHOOK_SECRETS|DATABASE_URL|PASSWORD|TOKEN/i);
      }
    });

    it("grants exactly the rules of rbac.yaml, the file the end-to-end tests prove", () => {
      const clusterRole = only(objects, "ClusterRole", controllerName) as RbacObject;
      expect(clusterRole.rules).toEqual(sourceRules("ClusterRole", "aegir-operator-controller"));
      const controllerRole = only(objects, "Role", controllerName, NAMESPACE) as RbacObject;
      expect(controllerRole.rules).toEqual(sourceRules("Role", "aegir-operator-controller"));
      const webhookRoles = find(objects, "Role", webhookName) as RbacObject[];
      expect(webhookRoles.map((r) => r.metadata.namespace).sort()).toEqual([...customerNamespaces].sort());
      // With the storefront on (every optional feature), the webhook's Role also has the storefront's reads.
      const webhookRules = [...sourceRules("Role", "aegir-operator-webhook"), ...(all ? sourceRules("Role", "aegir-operator-webhook-storefront") : [])];
      for (const role of webhookRoles) expect(role.rules).toEqual(webhookRules);
      // Nothing else is granted anywhere.
      expect(find(objects, "ClusterRole").length + find(objects, "Role").length).toBe(2 + customerNamespaces.length);
    });

    it("binds each role to the service account its Deployment runs as", () => {
      const saOf = (name: string) => deployment(objects, name).spec.template.spec.serviceAccountName;
      for (const o of [...find(objects, "ClusterRoleBinding"), ...find(objects, "RoleBinding")] as RbacObject[]) {
        const role = only(objects, o.roleRef!.kind, o.roleRef!.name, o.roleRef!.kind === "Role" ? o.metadata.namespace : undefined);
        expect(role).toBeDefined();
        const owner = o.metadata.name === controllerName ? controllerName : webhookName;
        expect(o.subjects).toEqual([{ kind: "ServiceAccount", name: saOf(owner), namespace: NAMESPACE }]);
        expect(find(objects, "ServiceAccount", saOf(owner), NAMESPACE)).toHaveLength(1);
      }
    });

    it("puts the Lease where the controller's Role allows it, and HostedSites where the webhook's does", () => {
      const args = container(objects, controllerName).args ?? [];
      expect(args).toContain(`--leader-election-namespace=${NAMESPACE}`);
      expect(find(objects, "Role", controllerName, NAMESPACE)).toHaveLength(1);
      expect(configMap(objects, webhookName).data.HOSTEDSITE_NAMESPACE).toBe(hostedSiteNamespace);
      expect(find(objects, "Role", webhookName, hostedSiteNamespace)).toHaveLength(1);
    });

    it("wires Services and NetworkPolicies to the pods' named ports", () => {
      for (const deploymentName of [controllerName, webhookName]) {
        const d = deployment(objects, deploymentName);
        const portNames = new Set((d.spec.template.spec.containers[0]!.ports ?? []).map((p) => p.name));
        const service = only(objects, "Service", deploymentName) as K8sObject & { spec: { selector: Record<string, string>; ports: Array<{ targetPort: string }> } };
        expect(selects(service.spec.selector, d.spec.template.metadata.labels)).toBe(true);
        for (const p of service.spec.ports) expect(portNames.has(p.targetPort), `${deploymentName}: ${p.targetPort}`).toBe(true);
        const policy = only(objects, "NetworkPolicy", deploymentName) as K8sObject & {
          spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: Array<{ ports: Array<{ port: string }> }>; egress: Array<{ ports: Array<{ port: number; protocol: string }> }> };
        };
        expect(selects(policy.spec.podSelector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
        expect(policy.spec.policyTypes).toEqual(["Ingress", "Egress"]);
        // Ingress only to the metrics, probe and webhook ports.
        const ingressPorts = new Set(policy.spec.ingress.flatMap((r) => r.ports.map((p) => p.port)));
        expect([...ingressPorts].sort()).toEqual(deploymentName === controllerName ? ["health", "metrics"] : ["http"]);
        const egress = policy.spec.egress.map((r) => r.ports.map((p) => `${p.protocol}/${p.port}`));
        expect(egress).toContainEqual(["UDP/53", "TCP/53"]);
        expect(egress.flat()).toContain(all ? "TCP/6443" : "TCP/443");
        if (deploymentName === controllerName) expect(egress.flat()).toContain("TCP/22");
        else expect(egress.flat()).toContain("TCP/5432");
      }
    });

    it("mounts a catalog the webhook's own parser accepts", () => {
      const catalog = configMap(objects, `${webhookName}-catalog`).data["catalog.yaml"]!;
      const parsed = parseCatalog(catalog, "rendered catalog");
      if (all) expect(parsed).toEqual(parseCatalog(yaml.dump(allFeatures.webhook.catalog), "values"));
      else expect(catalog).toBe(readFileSync(join(root, "webhook/default-catalog.yaml"), "utf8"));
    });

    it("exposes only the Stripe endpoint and the storefront through the Ingress, over TLS, when there is one", () => {
      if (!all) {
        expect(find(objects, "Ingress")).toEqual([]);
        return;
      }
      const ingress = only(objects, "Ingress", webhookName) as K8sObject & {
        spec: { tls: Array<{ hosts: string[] }>; rules: Array<{ host: string; http: { paths: Array<{ path: string; pathType: string; backend: { service: { name: string; port: { name: string } } } }> } }> };
      };
      const paths = ingress.spec.rules.flatMap((r) => r.http.paths);
      expect(paths.map((p) => [p.path, p.pathType])).toEqual([
        [WEBHOOK_PATH, "Exact"],
        ["/store", "Prefix"],
      ]);
      for (const path of paths) expect(path.backend.service).toEqual({ name: webhookName, port: { name: "http" } });
      expect(ingress.spec.tls[0]?.hosts).toEqual([ingress.spec.rules[0]?.host]);
    });

    it("labels the dashboard for the Grafana sidecar, when there is one", () => {
      if (!all) {
        expect(find(objects, "ConfigMap", "aegir-operator-dashboard")).toEqual([]);
        return;
      }
      const dashboard = only(objects, "ConfigMap", "aegir-operator-dashboard") as ConfigMap;
      expect(dashboard.metadata.labels?.grafana_dashboard).toBe("1");
      expect(dashboard.metadata.namespace).toBe("monitoring");
      expect(() => JSON.parse(dashboard.data["aegir-operator.json"]!) as unknown).not.toThrow();
    });
  });

  it("installs the project's CRDs from the chart's crds/ (--include-crds)", async () => {
    const { objects } = await template("--include-crds");
    const crds = find(objects, "CustomResourceDefinition").map((c) => c.metadata.name).sort();
    expect(crds).toEqual(["aegirservers.hosting.openatria.com", "hostedsiterestores.hosting.openatria.com", "hostedsites.hosting.openatria.com", "hostedspaces.hosting.openatria.com", "platformrollouts.hosting.openatria.com", "sitepools.hosting.openatria.com"]);
    for (const file of readdirSync(join(chartDir, "crds"))) {
      expect(readFileSync(join(chartDir, "crds", file)), file).toEqual(readFileSync(join(root, "crds", file)));
    }
  });

  it("without the webhook renders only the controller", async () => {
    const { objects } = await template("--set", "webhook.enabled=false");
    expect(find(objects, "Deployment").map((d) => d.metadata.name)).toEqual([controllerName]);
    expect(objects.filter((o) => o.metadata.name.startsWith(webhookName))).toEqual([]);
  });
});
