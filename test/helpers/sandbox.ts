// A quiet sandbox on free ports with fast simulated drush, for the tests that drive the whole stack.
import { createLogger } from "../../common/logger.ts";
import { type Sandbox, startSandbox } from "../harness/sandbox.ts";

export function startTestSandbox(dir: string): Promise<Sandbox> {
  return startSandbox({
    dir,
    ports: { api: 0, webhook: 0, metrics: 0, probes: 0, aegirState: 0, control: 0 },
    latency: { commandMs: 1_000, timeFactor: 0.005 },
    examples: true,
    log: createLogger({ name: "sandbox", level: "silent" }),
  });
}
