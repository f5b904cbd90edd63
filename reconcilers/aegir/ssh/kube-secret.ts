// The Kubernetes side of PrivateKeySource: one Secret key, read through the API at connect time.
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { SecretKeyReader } from "./private-key.ts";

export function readSecretKey(kc: KubeConfig): SecretKeyReader {
  const api = kc.makeApiClient(CoreV1Api);
  return async (namespace, name, key) => {
    const secret = await api.readNamespacedSecret({ name, namespace });
    const value = secret.data?.[key];
    if (value === undefined) throw new Error(`secret ${namespace}/${name} has no key ${key}`);
    return Buffer.from(value, "base64").toString("utf8");
  };
}
