// Runs the real helm against charts/aegir-operator and parses what it renders. helm comes from
// $HELM or PATH; the tests skip (saying how to get it) when there is none.
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";

export const root = join(import.meta.dirname, "../..");
export const chartDir = join(root, "charts/aegir-operator");
export const allFeaturesValues = join(chartDir, "ci/all-features-values.yaml");

export const RELEASE = "aegir-operator";
export const NAMESPACE = "aegir-operator";

const helmBin = process.env.HELM ?? "helm";

function helmVersion(): string | undefined {
  try {
    return execFileSync(helmBin, ["version", "--short"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

export const HELM_VERSION = helmVersion();
export const HELM_MISSING = "helm not found ($HELM or PATH): install helm: .ci/install-kube-tools";
if (HELM_VERSION === undefined) console.warn(`skipping the Helm chart tests: ${HELM_MISSING}`);

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function helm(args: readonly string[]): Promise<HelmResult> {
  return new Promise((resolve, reject) => {
    execFile(helmBin, args, { cwd: root, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") {
        reject(new Error(`cannot run ${helmBin}: ${error.message}`));
        return;
      }
      resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
    });
  });
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** `helm template` with the given extra arguments; throws with helm's message when it fails. */
export async function template(...args: string[]): Promise<{ text: string; objects: K8sObject[] }> {
  const result = await helm(["template", RELEASE, chartDir, "--namespace", NAMESPACE, ...args]);
  if (result.code !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  const objects = yaml.loadAll(result.stdout).filter((d): d is K8sObject => typeof d === "object" && d !== null);
  return { text: result.stdout, objects };
}

export function find(objects: readonly K8sObject[], kind: string, name?: string, namespace?: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name) && (namespace === undefined || o.metadata.namespace === namespace));
}

export function only(objects: readonly K8sObject[], kind: string, name?: string, namespace?: string): K8sObject {
  const found = find(objects, kind, name, namespace);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0]!;
}

// The parts of workload objects the tests read.
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
  };
}

export interface Probe {
  httpGet?: { path: string; port: string | number };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}

export interface PodSpec {
  serviceAccountName?: string;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Array<{ name: string; emptyDir?: Record<string, unknown>; configMap?: { name: string } }>;
}

export interface Deployment extends K8sObject {
  spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}

export interface ConfigMap extends K8sObject {
  data: Record<string, string>;
}

export const controllerName = `${RELEASE}-controller`;
export const webhookName = `${RELEASE}-webhook`;

export function deployment(objects: readonly K8sObject[], name: string): Deployment {
  return only(objects, "Deployment", name) as Deployment;
}

export function container(objects: readonly K8sObject[], name: string): Container {
  const containers = deployment(objects, name).spec.template.spec.containers;
  if (containers.length !== 1) throw new Error(`${name}: expected one container`);
  return containers[0]!;
}

export function configMap(objects: readonly K8sObject[], name: string): ConfigMap {
  return only(objects, "ConfigMap", name) as ConfigMap;
}

export function readValuesFile(file: string): Record<string, unknown> {
  return yaml.load(readFileSync(file, "utf8")) as Record<string, unknown>;
}

/** A selector's labels are all on the pod. */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
