// The pool settings an AegirServer spec implies: endpoint, pinned host key, the key Secret, and
// its concurrency budget spread over as few connections as the per-connection channel cap allows.
import type { AegirServerSpec } from "../../../crds/aegirserver.ts";
import type { SshPoolOptions } from "./pool.ts";
import type { SecretKeyReader } from "./private-key.ts";

const CHANNELS_PER_CONNECTION = 8;

export type ServerEndpoint = Pick<AegirServerSpec, "host" | "port" | "user" | "hostKeySHA256" | "privateKeySecretRef" | "capacity">;

export function sshPoolOptions(spec: ServerEndpoint, read: SecretKeyReader, extra: Pick<SshPoolOptions, "logger" | "onMetrics"> = {}): SshPoolOptions {
  const maxConcurrent = spec.capacity.maxConcurrentOperations;
  return {
    host: spec.host,
    port: spec.port,
    username: spec.user,
    hostKeySHA256: spec.hostKeySHA256,
    privateKey: { secretRef: spec.privateKeySecretRef, read },
    maxConcurrent,
    channelsPerConnection: CHANNELS_PER_CONNECTION,
    maxConnections: Math.ceil(maxConcurrent / CHANNELS_PER_CONNECTION),
    ...extra,
  };
}
