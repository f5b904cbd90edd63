// One SSH pool and Aegir driver per AegirServer, built from its spec and rebuilt when the
// connection settings change (the old pool drains first).
import type { AegirServer } from "../crds/kinds.ts";
import { AegirDriver } from "../reconcilers/aegir/driver.ts";
import { AegirError } from "../reconcilers/aegir/errors.ts";
import type { CommandRunner } from "../reconcilers/aegir/runner.ts";
import { SshPool } from "../reconcilers/aegir/ssh/pool.ts";
import type { SecretKeyReader } from "../reconcilers/aegir/ssh/private-key.ts";
import { sshPoolOptions } from "../reconcilers/aegir/ssh/server-spec.ts";
import type { Logger } from "../common/logger.ts";
import type { ControllerMetrics } from "./metrics.ts";

export interface DriverRegistryOptions {
  servers: () => readonly AegirServer[];
  /** Reads the private key from the AegirServer's Secret. */
  readSecret: SecretKeyReader;
  /** A key file that overrides the Secrets (local runs and the sandbox). */
  keyFile?: string;
  metrics?: ControllerMetrics;
  log: Logger;
}

interface Entry {
  fingerprint: string;
  pool: SshPool;
  driver: AegirDriver;
}

export class DriverRegistry {
  private readonly o: DriverRegistryOptions;
  private readonly entries = new Map<string, Entry>();

  constructor(options: DriverRegistryOptions) {
    this.o = options;
  }

  driver(name: string): AegirDriver {
    const server = this.o.servers().find((s) => s.metadata.name === name);
    if (server === undefined) throw new AegirError("ConnectionRefused", `AegirServer ${name} is not known (yet)`);
    const spec = server.spec;
    const fingerprint = JSON.stringify([spec.host, spec.port, spec.user, spec.hostKeySHA256, spec.privateKeySecretRef, spec.drushPath, spec.hostmasterAlias, spec.capacity.maxConcurrentOperations, spec.commandTimeouts]);
    const existing = this.entries.get(name);
    if (existing?.fingerprint === fingerprint) return existing.driver;
    if (existing) void existing.pool.close();

    const options = sshPoolOptions(spec, this.o.readSecret, {
      logger: this.o.log,
      ...(this.o.metrics ? { onMetrics: (m: { openConnections: number }) => this.o.metrics?.sshConnections.set({ server: name }, m.openConnections) } : {}),
    });
    const pool = new SshPool(this.o.keyFile ? { ...options, privateKey: { file: this.o.keyFile } } : options);
    const driver = new AegirDriver({
      runner: pool,
      drush: spec.drushPath,
      hostmaster: spec.hostmasterAlias,
      timeouts: { readMs: spec.commandTimeouts.readSeconds * 1000, writeMs: spec.commandTimeouts.writeSeconds * 1000 },
      ...(this.o.metrics ? { onCommand: this.o.metrics.drushObserver(name) } : {}),
    });
    this.entries.set(name, { fingerprint, pool, driver });
    return driver;
  }

  /** The server's SSH pool, for commands outside the driver (the conformance checks). */
  runner(name: string): CommandRunner {
    this.driver(name);
    return (this.entries.get(name) as Entry).pool;
  }

  /** Drain every pool: in-flight drush calls get up to graceMs to finish. */
  async close(graceMs: number): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.pool.close(graceMs)));
    this.entries.clear();
  }
}
