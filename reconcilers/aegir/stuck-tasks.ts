// Tasks that have been Processing far longer than their type takes. Pure. A task whose process
// died stays Processing in Aegir and its queue lock blocks every other task of the server until
// the lock times out (an hour), so ops need its id to act (research/aegir.md §7).
import type { ServerStatus } from "./state.ts";

/** How long each task type usually takes on a loaded server, in seconds; others take `default`. */
export const EXPECTED_TASK_SECONDS: Readonly<Record<string, number>> = {
  install: 600,
  verify: 120,
  backup: 600,
  "backup-delete": 60,
  restore: 900,
  migrate: 1_800,
  clone: 1_800,
  delete: 300,
  default: 300,
};

export interface StuckTask {
  nid: number;
  type: string;
  uri: string;
  runningSeconds: number;
  expectedSeconds: number;
}

/** Processing tasks running longer than `factor` times their type's expected duration. */
export function stuckTasks(status: ServerStatus, nowSeconds: number, factor = 3, expected: Readonly<Record<string, number>> = EXPECTED_TASK_SECONDS): StuckTask[] {
  const stuck: StuckTask[] = [];
  for (const site of status.sites) {
    for (const task of site.tasks) {
      if (task.status !== "processing" || task.executed <= 0) continue;
      const expectedSeconds = expected[task.type] ?? expected["default"] ?? 300;
      const runningSeconds = nowSeconds - task.executed;
      if (runningSeconds > factor * expectedSeconds) stuck.push({ nid: task.nid, type: task.type, uri: site.uri, runningSeconds, expectedSeconds });
    }
  }
  return stuck.sort((a, b) => a.nid - b.nid);
}
