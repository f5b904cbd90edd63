// One SSH connection: open it (own TCP socket with no-delay, pinned host key, public-key auth)
// and run commands on it, one exec channel each. Failures become classified AegirErrors.
import { connect as tcpConnect, type Socket } from "node:net";
import { NodeSSH } from "node-ssh";
import type { Client, ClientChannel } from "ssh2";
import { AegirError } from "../errors.ts";
import type { CommandResult } from "../runner.ts";
import { hexToFingerprint } from "./fingerprint.ts";

export interface ConnectParams {
  host: string;
  port: number;
  username: string;
  /** Pinned host key digest, lowercase hex (see fingerprint.ts). */
  hostKeyHex: string;
  privateKey: string;
  passphrase?: string;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
}

/** ssh2 tags its errors with where they happened. */
function errorLevel(error: unknown): string | undefined {
  const level: unknown = error instanceof Error ? (error as Error & { level?: unknown }).level : undefined;
  return typeof level === "string" ? level : undefined;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A connected TCP socket, or ConnectionRefused. Nagle off: it costs ~40 ms per exec round trip. */
function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect({ host, port, noDelay: true });
    const fail = (error: Error) => {
      sock.destroy();
      reject(new AegirError("ConnectionRefused", `cannot connect to ${host}:${port}: ${error.message}`, { cause: error }));
    };
    sock.setTimeout(timeoutMs, () => fail(new Error(`no answer within ${timeoutMs} ms`)));
    sock.once("error", fail);
    sock.once("connect", () => {
      sock.setTimeout(0);
      sock.removeListener("error", fail);
      resolve(sock);
    });
  });
}

/** Opens an authenticated connection; the host key is checked during key exchange, before any authentication. */
export async function openConnection(params: ConnectParams): Promise<Client> {
  const { host, port } = params;
  const sock = await openSocket(host, port, params.connectTimeoutMs);
  let presented: string | undefined;
  const ssh = new NodeSSH();
  try {
    await ssh.connect({
      sock,
      username: params.username,
      privateKey: params.privateKey,
      ...(params.passphrase === undefined ? {} : { passphrase: params.passphrase }),
      hostHash: "sha256",
      hostVerifier: (hex: string): boolean => {
        if (hex === params.hostKeyHex) return true;
        presented = hexToFingerprint(hex);
        return false;
      },
      readyTimeout: params.connectTimeoutMs,
      keepaliveInterval: params.keepaliveIntervalMs,
      keepaliveCountMax: params.keepaliveCountMax,
    });
  } catch (error) {
    sock.destroy();
    throw classifyConnectError(error, host, port, presented);
  }
  const client = ssh.connection;
  if (client === null) throw new AegirError("ConnectionLost", `connection to ${host}:${port} closed right after authentication`);
  return client;
}

function classifyConnectError(error: unknown, host: string, port: number, presented: string | undefined): AegirError {
  const where = `${host}:${port}`;
  if (presented !== undefined) {
    return new AegirError("HostKeyMismatch", `host key of ${where} (${presented}) does not match the pinned fingerprint`, { cause: error });
  }
  const level = errorLevel(error);
  if (level === "client-authentication") {
    return new AegirError("AuthenticationFailed", `${where} refused the private key: ${message(error)}`, { cause: error });
  }
  // Thrown by ssh2 before any traffic when the key is unreadable or the passphrase wrong.
  if (message(error).startsWith("Cannot parse privateKey")) {
    return new AegirError("AuthenticationFailed", `unusable private key for ${where}: ${message(error)}`, { cause: error });
  }
  return new AegirError("ConnectionRefused", `SSH handshake with ${where} failed: ${message(error)}`, { cause: error });
}

// ssh2 only sends a signal while our side of the channel is open, but stdin is ended as soon as it is
// written. The protocol allows a signal after EOF, so it is sent one layer down, if that layer exists.
interface ChannelInternals {
  outgoing?: { id?: number; state?: string };
  _client?: { _protocol?: { signal?: (id: number, signal: string) => void } };
}

function signalChannel(channel: ClientChannel, signal: string): void {
  const inner = channel as unknown as ChannelInternals;
  const id = inner.outgoing?.id;
  const state = inner.outgoing?.state;
  const protocol = inner._client?._protocol;
  if (typeof id === "number" && (state === "open" || state === "eof") && typeof protocol?.signal === "function") protocol.signal(id, signal);
  else channel.signal(signal);
}

export interface ExecHandle {
  /**
   * The command's outcome; rejects with ConnectionLost, CommandTimeout, or ConnectionRefused
   * when the server refused the channel (then nothing was sent: safe to retry).
   */
  result: Promise<CommandResult>;
  /** Give up on the command: terminate it remotely, close its channel, reject `result` with CommandTimeout. */
  timeout(afterMs: number): void;
}

/** How long a timed-out command gets to die from SIGTERM before it is sent SIGKILL. */
const KILL_AFTER_MS = 5_000;

/** One open connection and the exec channels on it. */
export class SshConnection {
  readonly client: Client;
  /** Channels open or opening: what counts against the server's MaxSessions. */
  busy = 0;
  /** Set once the connection is gone; no channel is opened on it afterwards. */
  dead = false;
  /**
   * Set when the server refused a channel, cleared when one of ours closes. sshd frees a session
   * slot some time after the close it answered, so a burst can briefly exceed MaxSessions
   * even under our own cap.
   */
  saturated = false;
  private lastError: Error | undefined;

  constructor(client: Client, onClose: (connection: SshConnection, error: Error | undefined) => void) {
    this.client = client;
    client.on("error", (error: Error) => {
      this.lastError = error;
    });
    // ssh2 emits the connection's close before it closes the channels on it, so `dead` is set
    // by the time a channel learns that it lost its connection.
    client.once("close", () => {
      this.dead = true;
      onClose(this, this.lastError);
    });
  }

  /**
   * Runs a command string on a new channel. `onReleased` is called once the channel no longer
   * counts against the server's limit (closed, refused, or its connection gone), which for a
   * timed-out command can be after `result` has settled.
   */
  exec(command: string, stdin: string | undefined, onReleased: () => void): ExecHandle {
    this.busy++;
    let channel: ClientChannel | undefined;
    let settled = false;
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    let released = false;
    const release = (refused = false) => {
      if (released) return;
      released = true;
      clearTimeout(killTimer);
      this.busy--;
      this.saturated = refused && this.busy > 0;
      onReleased();
    };

    let settle!: (outcome: { result: CommandResult } | { error: AegirError }) => void;
    const result = new Promise<CommandResult>((resolve, reject) => {
      settle = (outcome) => {
        if (settled) return;
        settled = true;
        if ("error" in outcome) reject(outcome.error);
        else resolve(outcome.result);
      };
    });

    const stopChannel = (open: ClientChannel) => {
      signalChannel(open, "TERM");
      open.close();
      killTimer = setTimeout(() => signalChannel(open, "KILL"), KILL_AFTER_MS);
      killTimer.unref();
    };

    const onOpen = (error: Error | undefined, opened: ClientChannel) => {
      if (error) {
        release(!this.dead);
        settle({
          error: this.dead
            ? new AegirError("ConnectionLost", `connection lost before the command started: ${message(this.lastError ?? error)}`, { cause: error })
            : new AegirError("ConnectionRefused", `the server refused a new channel: ${error.message}`, { cause: error }),
        });
        return;
      }
      channel = opened;
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let exit: { code: number | null; signal: string | null } | undefined;
      opened.on("data", (chunk: Buffer) => stdout.push(chunk));
      opened.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
      opened.on("exit", (code: number | null, signal?: string) => {
        exit = { code: code ?? null, signal: signal ?? null };
      });
      // A channel error is followed by its close, which settles the command.
      opened.on("error", (channelError: Error) => {
        this.lastError = channelError;
      });
      opened.once("close", () => {
        release();
        if (exit === undefined && this.dead) {
          settle({ error: new AegirError("ConnectionLost", `connection lost while the command ran: ${message(this.lastError)}`, { cause: this.lastError }) });
          return;
        }
        settle({ result: { code: exit?.code ?? null, signal: exit?.signal ?? null, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") } });
      });
      if (timedOut) stopChannel(opened);
      else if (stdin === undefined) opened.end();
      else opened.end(stdin);
    };
    try {
      this.client.exec(command, onOpen);
    } catch (error) {
      // ssh2 throws when the socket already ended but its close has not been emitted yet.
      release();
      settle({ error: new AegirError("ConnectionLost", `connection lost before the command started: ${message(error)}`, { cause: error }) });
    }

    return {
      result,
      timeout: (afterMs) => {
        if (settled || timedOut) return;
        timedOut = true;
        settle({ error: new AegirError("CommandTimeout", `command did not finish within ${afterMs} ms`) });
        if (channel !== undefined) stopChannel(channel);
      },
    };
  }

  /** Ends the connection politely; the close handler passed to the constructor runs afterwards. */
  end(): void {
    this.client.end();
  }
}
