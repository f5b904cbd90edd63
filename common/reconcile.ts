// What every reconciler returns to the controller runtime (controller-runtime's Result and
// TerminalError in one shape).
export interface Result {
  /** Reconcile again after this long (the runtime keeps the earliest). */
  requeueAfterMs?: number;
  /** A failure: requeued with backoff, unless terminal. */
  error?: Error;
  /**
   * The error needs a person or a spec change, not a retry: it is not requeued (a watch event
   * brings the object back) and counts in terminal_reconcile_errors_total.
   */
  terminal?: boolean;
}
