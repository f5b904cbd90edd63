// Registers a simulated Aegir server with a fake Kubernetes API: the SSH key as a
// kubernetes.io/ssh-auth Secret and an AegirServer pointing at the SSH server, the way an
// operator sets up a real one.
import { API_VERSION } from "../../crds/group.ts";
import type { FakeApiServer } from "./kube/index.ts";
import type { TestSshServer } from "./ssh/server.ts";

export interface AegirServerRegistration {
  name: string;
  ssh: TestSshServer;
  privateKey: string;
  maxSites: number;
  /** The support tracker's site URI on this server. */
  tracker: string;
  /** spec.commandTimeouts; the CRD's defaults when absent. */
  commandTimeouts?: { readSeconds: number; writeSeconds: number };
}

export function registerAegirServer(api: FakeApiServer, r: AegirServerRegistration): void {
  const secret = { name: `${r.name}-ssh`, namespace: "aegir-operator" };
  api.objects.create({
    apiVersion: "v1",
    kind: "Secret",
    metadata: secret,
    type: "kubernetes.io/ssh-auth",
    data: { "ssh-privatekey": Buffer.from(r.privateKey).toString("base64") },
  });
  api.objects.create({
    apiVersion: API_VERSION,
    kind: "AegirServer",
    metadata: { name: r.name },
    spec: {
      host: "127.0.0.1",
      port: r.ssh.port,
      hostKeySHA256: r.ssh.fingerprint,
      privateKeySecretRef: secret,
      capacity: { maxSites: r.maxSites, maxConcurrentOperations: 4 },
      ...(r.commandTimeouts ? { commandTimeouts: r.commandTimeouts } : {}),
      platforms: [{ name: "platform_openatrium2652", profile: "openatrium", ownerRole: "manager" }],
      supportTracker: { site: `@${r.tracker}`, tierRoles: { Basic: "customer", Standard: "customer standard", Premium: "customer premium" } },
    },
  });
}
