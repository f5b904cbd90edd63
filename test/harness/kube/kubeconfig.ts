// A kubeconfig for the fake server, usable by kubectl and @kubernetes/client-node.
import * as yaml from "js-yaml";

export function kubeconfigYaml(url: string, namespace = "default", name = "fake"): string {
  return yaml.dump({
    apiVersion: "v1",
    kind: "Config",
    // client-node refuses a plain http server unless TLS verification is marked as skipped;
    // kubectl ignores the flag for http and never sends the token over it.
    clusters: [{ name, cluster: { server: url, "insecure-skip-tls-verify": true } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace } }],
    "current-context": name,
    users: [{ name, user: { token: "fake-token" } }],
    preferences: {},
  });
}
