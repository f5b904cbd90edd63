// Every command the simulator was asked to run, so tests and benchmarks can assert budgets
// ("one server-status per poll, whatever the site count").

export type CommandKind = "read" | "write" | "invalid";
export type CommandOutcome = "exited" | "dropped" | "aborted" | "running";

export interface CommandRecord {
  /** `pm-enable`, `php-eval:site-state`; `php-eval:unknown` for foreign code; `invalid` when unparsable. */
  name: string;
  kind: CommandKind;
  alias: string | undefined;
  argv: readonly string[];
  /** Milliseconds since the epoch on the simulator's clock. */
  at: number;
  outcome: CommandOutcome;
  code: number | null;
  /** The SSH client's TCP port, when the command came over SSH. */
  clientPort?: number;
}

export interface CommandCounts {
  total: number;
  reads: number;
  writes: number;
  byName: Record<string, number>;
}

export class CommandStats {
  readonly records: CommandRecord[] = [];
  private readonly listeners = new Set<(record: CommandRecord) => void>();

  add(record: CommandRecord): CommandRecord {
    this.records.push(record);
    for (const listener of this.listeners) listener(record);
    return record;
  }

  /** Calls the listener with every command from now on, as it starts; returns the unsubscribe function. */
  onCommand(listener: (record: CommandRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  counts(): CommandCounts {
    const byName: Record<string, number> = {};
    for (const r of this.records) byName[r.name] = (byName[r.name] ?? 0) + 1;
    return {
      total: this.records.length,
      reads: this.records.filter((r) => r.kind === "read").length,
      writes: this.records.filter((r) => r.kind === "write").length,
      byName,
    };
  }

  /** How many commands had this name (`php-eval` counts every script). */
  count(name?: string): number {
    if (name === undefined) return this.records.length;
    return this.records.filter((r) => r.name === name || (name === "php-eval" && r.name.startsWith("php-eval:"))).length;
  }

  reset(): void {
    this.records.length = 0;
  }
}
