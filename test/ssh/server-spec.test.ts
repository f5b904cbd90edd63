// An AegirServer spec turned into a working pool.
import { afterEach, describe, expect, it } from "vitest";
import { AegirServerSpec } from "../../crds/aegirserver.ts";
import { SshPool } from "../../reconcilers/aegir/ssh/pool.ts";
import { sshPoolOptions } from "../../reconcilers/aegir/ssh/server-spec.ts";
import { fixture, type Fixture } from "./fixtures.ts";

let current: Fixture | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe("sshPoolOptions", () => {
  it("connects as the spec says and spreads its concurrency over 8-channel connections", async () => {
    current = await fixture();
    const { server, key } = current;
    const spec = AegirServerSpec.parse({
      host: server.host,
      port: server.port,
      hostKeySHA256: server.fingerprint,
      privateKeySecretRef: { name: "aegir-1-ssh", namespace: "aegir-operator" },
      capacity: { maxSites: 10, maxConcurrentOperations: 12 },
      platforms: [{ name: "platform_oa", profile: "openatrium" }],
    });
    const reads: string[] = [];
    const pool = new SshPool(
      sshPoolOptions(spec, (namespace, name, secretKey) => {
        reads.push(`${namespace}/${name}/${secretKey}`);
        return Promise.resolve(key.privateKey);
      }),
    );
    try {
      const results = await Promise.all(Array.from({ length: 30 }, () => pool.run(["sleep", "30"])));
      expect(results.every((r) => r.code === 0)).toBe(true);
      expect(server.stats.maxActiveExecs).toBe(12);
      expect(server.stats.authenticated).toBe(2);
      expect(reads).toEqual(["aegir-operator/aegir-1-ssh/ssh-privatekey", "aegir-operator/aegir-1-ssh/ssh-privatekey"]);
    } finally {
      await pool.close(0);
    }
  });
});
