// How the driver reaches a server: run one command (an argv, quoted by the transport) and get
// its exit code and output. The SSH pool implements it for real servers; the simulated Aegir
// implements it in-process for tests.

export interface CommandResult {
  /** Exit status; null when the command died by a signal. */
  code: number | null;
  signal?: string | null;
  /** drush's data. */
  stdout: string;
  /** drush's log lines. */
  stderr: string;
}

export interface RunOptions {
  /** Data for the command's standard input (JSON for the operator's php-eval scripts). */
  stdin?: string;
  /** Give up (and report CommandTimeout) after this long. */
  timeoutMs?: number;
}

export interface CommandRunner {
  /**
   * Run argv on the server. Resolves with whatever the command did, failures included;
   * rejects only with an AegirError when the command could not be run or finish
   * (connection lost, timeout, authentication).
   */
  run(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
}
