// The SSH CommandRunner of one AegirServer: a small pool of connections, opened when first
// needed and reused, each carrying at most `channelsPerConnection` exec channels (below sshd's
// MaxSessions, which refuses the excess instead of queueing it), with the pool's total
// concurrency capped like a semaphore. Commands beyond either limit wait in FIFO order; a
// channel the server still refuses (its slots free up a little after our closes) waits again.
import type { Logger } from "pino";
import { AegirError } from "../errors.ts";
import type { CommandResult, CommandRunner, RunOptions } from "../runner.ts";
import { commandLine } from "../shell.ts";
import { SshConnection, openConnection, type ExecHandle } from "./connection.ts";
import { fingerprintToHex } from "./fingerprint.ts";
import { describeKeySource, loadPrivateKey, type PrivateKeySource } from "./private-key.ts";

export interface PoolMetrics {
  /** Authenticated connections. */
  openConnections: number;
  /** Connections being opened. */
  connecting: number;
  /** Exec channels open or opening, over all connections. */
  busyChannels: number;
  /** Commands waiting for a channel. */
  queued: number;
}

export interface SshPoolOptions {
  host: string;
  port?: number;
  username: string;
  /** Pinned host key, OpenSSH form `SHA256:<unpadded base64>` (`ssh-keygen -lf`). Required. */
  hostKeySHA256: string;
  privateKey: PrivateKeySource;
  /** Connections opened at most (default 2). */
  maxConnections?: number;
  /** Exec channels per connection (default 8; OpenSSH's MaxSessions defaults to 10). */
  channelsPerConnection?: number;
  /** Commands running at once over the whole pool (default: every channel of every connection). */
  maxConcurrent?: number;
  /** TCP connect plus SSH handshake and authentication (default 10 s). */
  connectTimeoutMs?: number;
  /** SSH keepalive: a peer that answers none of `keepaliveCountMax` probes is dropped (defaults 15 s × 3). */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  logger?: Logger;
  /** Called with fresh numbers whenever one of them changes. */
  onMetrics?: (metrics: PoolMetrics) => void;
}

/** Pause between connect attempts while other connections still work. */
const CONNECT_RETRY_MS = 1_000;
/** How long a closing connection may take to say goodbye. */
const END_TIMEOUT_MS = 2_000;

interface Pending {
  command: string;
  stdin: string | undefined;
  resolve: (result: CommandResult) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  timeoutMs: number | undefined;
  /** Set when the time limit passed. */
  expired: boolean;
  handle: ExecHandle | undefined;
}

export class SshPool implements CommandRunner {
  private readonly options: SshPoolOptions;
  private readonly hostKeyHex: string;
  private readonly port: number;
  private readonly maxConnections: number;
  private readonly channelsPerConnection: number;
  private readonly maxConcurrent: number;
  private readonly log: Logger | undefined;
  private readonly connections: SshConnection[] = [];
  private readonly attempts = new Set<Promise<void>>();
  private readonly queue: Pending[] = [];
  private running = 0;
  private connecting = 0;
  private closing = false;
  /** After a failed connect, no new one is tried before this time (performance.now()). */
  private connectBlockedUntil = 0;
  private idle: (() => void) | undefined;

  constructor(options: SshPoolOptions) {
    if (!options.hostKeySHA256) throw new TypeError("an SSH pool needs the server's pinned host key fingerprint (hostKeySHA256)");
    this.hostKeyHex = fingerprintToHex(options.hostKeySHA256);
    this.options = options;
    this.port = options.port ?? 22;
    this.maxConnections = positive("maxConnections", options.maxConnections ?? 2);
    this.channelsPerConnection = positive("channelsPerConnection", options.channelsPerConnection ?? 8);
    this.maxConcurrent = positive("maxConcurrent", options.maxConcurrent ?? this.maxConnections * this.channelsPerConnection);
    this.log = options.logger?.child({ aegirServer: `${options.username}@${options.host}:${this.port}` });
  }

  run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    if (this.closing) return Promise.reject(new AegirError("ConnectionLost", "the SSH pool is closed"));
    let command: string;
    try {
      command = commandLine(argv);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new TypeError(String(error)));
    }
    return new Promise<CommandResult>((resolve, reject) => {
      const pending: Pending = { command, stdin: options.stdin, resolve, reject, timer: undefined, timeoutMs: options.timeoutMs, expired: false, handle: undefined };
      // The time limit counts from the call, waiting for a channel included.
      if (options.timeoutMs !== undefined) pending.timer = setTimeout(() => this.expire(pending), options.timeoutMs);
      this.queue.push(pending);
      this.pump();
    });
  }

  metrics(): PoolMetrics {
    return { openConnections: this.connections.length, connecting: this.connecting, busyChannels: this.running, queued: this.queue.length };
  }

  /**
   * Stops taking commands (queued ones are rejected, nothing was sent for them), waits up to
   * `graceMs` for running ones, then ends every connection; commands still running then fail
   * with ConnectionLost.
   */
  async close(graceMs = 30_000): Promise<void> {
    this.closing = true;
    for (const pending of this.queue.splice(0)) this.fail(pending, new AegirError("ConnectionLost", "the SSH pool closed before the command started"));
    this.emitMetrics();
    if (this.running > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await Promise.all(this.attempts);
    await Promise.all(this.connections.map((connection) => endConnection(connection)));
  }

  /** Hands queued commands to free channels, opening connections when all are busy. */
  private pump(): void {
    while (this.queue.length > 0 && this.running < this.maxConcurrent) {
      const connection = this.connections.find((c) => !c.dead && !c.saturated && c.busy < this.channelsPerConnection);
      if (connection === undefined) break;
      this.start(this.queue.shift() as Pending, connection);
    }
    const wanted = Math.min(this.queue.length, this.maxConcurrent - this.running);
    while (!this.closing && performance.now() >= this.connectBlockedUntil && this.connections.length + this.connecting < this.maxConnections && wanted > this.connecting * this.channelsPerConnection) {
      this.open();
    }
    this.emitMetrics();
  }

  private start(pending: Pending, connection: SshConnection): void {
    this.running++;
    pending.handle = connection.exec(pending.command, pending.stdin, () => {
      this.running--;
      if (this.running === 0) this.idle?.();
      this.pump();
    });
    pending.handle.result.then(
      (result) => {
        clearTimeout(pending.timer);
        pending.resolve(result);
      },
      (error: unknown) => {
        // A refused channel ran nothing: wait for one of the connection's channels to close and retry.
        const refused = error instanceof AegirError && error.reason === "ConnectionRefused";
        if (refused && pending.expired) {
          this.fail(pending, timedOutWaiting(pending));
          return;
        }
        if (refused && connection.busy > 0 && !connection.dead && !this.closing) {
          pending.handle = undefined;
          this.queue.unshift(pending);
          this.pump();
          return;
        }
        this.fail(pending, error);
      },
    );
  }

  private expire(pending: Pending): void {
    pending.expired = true;
    if (pending.handle !== undefined) {
      pending.handle.timeout(pending.timeoutMs ?? 0);
      return;
    }
    const index = this.queue.indexOf(pending);
    if (index === -1) return;
    this.queue.splice(index, 1);
    this.emitMetrics();
    pending.reject(timedOutWaiting(pending));
  }

  private fail(pending: Pending, error: unknown): void {
    clearTimeout(pending.timer);
    pending.reject(error);
  }

  private open(): void {
    this.connecting++;
    const started = performance.now();
    const attempt = this.connect().then(
      (connection) => {
        this.connecting--;
        this.attempts.delete(attempt);
        if (this.closing) {
          connection.end();
          return;
        }
        this.connections.push(connection);
        this.log?.debug({ connections: this.connections.length, ms: Math.round(performance.now() - started) }, "ssh connected");
        this.pump();
      },
      (error: unknown) => {
        this.connecting--;
        this.attempts.delete(attempt);
        const failure = error instanceof AegirError ? error : new AegirError("ConnectionRefused", String(error), { cause: error });
        this.log?.warn({ reason: failure.reason, error: failure.message }, "ssh connect failed");
        // With no connection left to serve them, the waiting commands would wait forever.
        if (this.connections.length === 0 && this.connecting === 0) {
          for (const pending of this.queue.splice(0)) this.fail(pending, failure);
        } else {
          // Other connections still serve the queue; pause before trying to add one again.
          this.connectBlockedUntil = performance.now() + CONNECT_RETRY_MS;
          setTimeout(() => this.pump(), CONNECT_RETRY_MS).unref();
        }
        this.pump();
      },
    );
    this.attempts.add(attempt);
  }

  private async connect(): Promise<SshConnection> {
    const source = this.options.privateKey;
    let privateKey: string;
    try {
      privateKey = await loadPrivateKey(source);
    } catch (error) {
      throw new AegirError("AuthenticationFailed", `cannot read the SSH private key from ${describeKeySource(source)}: ${firstLine(error)}`, { cause: error });
    }
    const client = await openConnection({
      host: this.options.host,
      port: this.port,
      username: this.options.username,
      hostKeyHex: this.hostKeyHex,
      privateKey,
      ...(source.passphrase === undefined ? {} : { passphrase: source.passphrase }),
      connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
      keepaliveIntervalMs: this.options.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: this.options.keepaliveCountMax ?? 3,
    });
    return new SshConnection(client, (connection, error) => this.dropped(connection, error));
  }

  private dropped(connection: SshConnection, error: Error | undefined): void {
    const index = this.connections.indexOf(connection);
    if (index !== -1) this.connections.splice(index, 1);
    if (!this.closing) this.log?.warn({ inFlight: connection.busy, error: error?.message }, "ssh connection lost");
    this.pump();
  }

  private emitMetrics(): void {
    this.options.onMetrics?.(this.metrics());
  }
}

function timedOutWaiting(pending: Pending): AegirError {
  return new AegirError("CommandTimeout", `no SSH channel became free within ${pending.timeoutMs ?? 0} ms; the command was not sent`);
}

/** Ends a connection, forcing it closed when the server does not answer. */
function endConnection(connection: SshConnection): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => connection.client.destroy(), END_TIMEOUT_MS);
    connection.client.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    connection.end();
  });
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name} must be a whole number of at least 1`);
  return value;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n", 1)[0] ?? "";
}
