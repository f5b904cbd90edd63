// Where the SSH client key comes from: a file (local runs, tests) or a Kubernetes Secret (the
// AegirServer's privateKeySecretRef). It is read at every connect, so a rotated Secret is picked
// up by the next connection, and it is never kept in a form that a logger would print.
import { readFile } from "node:fs/promises";

/** Reads one key of a Secret's data, decoded; injected so the pool does not depend on a cluster. */
export type SecretKeyReader = (namespace: string, name: string, key: string) => Promise<string>;

export interface SecretKeyRef {
  name: string;
  namespace: string;
  key: string;
}

export type PrivateKeySource =
  | { file: string; passphrase?: string }
  | { secretRef: SecretKeyRef; read: SecretKeyReader; passphrase?: string };

/** Where the key lives, for log lines and error messages (never the key itself). */
export function describeKeySource(source: PrivateKeySource): string {
  return "file" in source ? `file ${source.file}` : `secret ${source.secretRef.namespace}/${source.secretRef.name}[${source.secretRef.key}]`;
}

export async function loadPrivateKey(source: PrivateKeySource): Promise<string> {
  return "file" in source ? readFile(source.file, "utf8") : source.read(source.secretRef.namespace, source.secretRef.name, source.secretRef.key);
}
