// The apply loop both reconcilers share: operations run in plan order; the first Aegir error
// stops the run (later operations may depend on it) and is reported with its operation.
import { AegirError } from "./aegir/errors.ts";

export interface AppliedInOrder<Op> {
  applied: Op[];
  failed: { operation: Op; error: AegirError } | undefined;
}

/** Runs `apply` for each operation into `result`; any error other than an AegirError is thrown. */
export async function applyInOrder<Op, R extends AppliedInOrder<Op>>(operations: readonly Op[], result: R, apply: (op: Op, result: R) => Promise<void>): Promise<R> {
  for (const operation of operations) {
    try {
      await apply(operation, result);
      result.applied.push(operation);
    } catch (error) {
      if (!(error instanceof AegirError)) throw error;
      result.failed = { operation, error };
      break;
    }
  }
  return result;
}
