// A simulator and a driver on it, stopped after the test.
import { onTestFinished } from "vitest";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { AegirSimulator, type SimulatorOptions } from "../harness/aegir/index.ts";

export const OWNER = { name: "jane", mail: "jane@example.com" };

export function simulated(options: SimulatorOptions = {}, driverOptions: { readMs?: number; writeMs?: number } = {}) {
  const sim = new AegirSimulator(options);
  onTestFinished(() => sim.close());
  const driver = new AegirDriver({ runner: sim.runner(), timeouts: driverOptions });
  return { sim, driver };
}

/** Create a site and run its install. */
export async function installedSite(sim: AegirSimulator, driver: AegirDriver, uri = "acme.example.com"): Promise<string> {
  await driver.createSite({ uri, platform: "platform_openatrium2652", profile: "openatrium", aliases: [], https: "Disabled" });
  sim.drainTasks();
  return uri;
}
