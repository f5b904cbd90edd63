// An in-process SSH server for tests: ssh2's Server on 127.0.0.1 with a fresh host key, one
// authorized client key, and an ExecHandler playing the remote side of every exec request.
// It counts what a test wants to assert on (auth attempts, connections, concurrent channels)
// and can misbehave on demand (refuse channels beyond a limit, drop or stall connections).
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import ssh2, { type ClientInfo, type Connection, type ParsedKey, type PublicKeyAuthContext, type ServerChannel, type Session } from "ssh2";
import { generateKeyPair } from "./keys.ts";
import type { ExecHandler } from "./types.ts";

export interface TestSshServerOptions {
  handler: ExecHandler;
  /** The one client key allowed in: an authorized_keys line. */
  authorizedKey: string;
  /** Accept only this user name (default: any). */
  username?: string;
  /** Session channels allowed per connection at once, like sshd's MaxSessions (default 10); more are refused. */
  maxSessions?: number;
  /** Wait this long before running each exec request. */
  execDelayMs?: number;
}

export interface TestSshServerStats {
  /** TCP connections accepted. */
  connections: number;
  /** Authentication requests of any method, `none` included. */
  authAttempts: number;
  /** Connections that authenticated. */
  authenticated: number;
  /** Exec requests run. */
  execs: number;
  /** Exec channels open now, over all connections. */
  activeExecs: number;
  /** The most exec channels ever open at once, over all connections. */
  maxActiveExecs: number;
  /** Session channels refused because of `maxSessions`. */
  refusedSessions: number;
}

export interface TestSshServer {
  readonly host: string;
  readonly port: number;
  /** Host key fingerprint in OpenSSH form, what AegirServer.spec.hostKeySHA256 pins. */
  readonly fingerprint: string;
  readonly stats: TestSshServerStats;
  /** Cut every connection at once, as a network failure would (no SSH goodbye). */
  dropConnections(): void;
  /** Stop reading from every connection: the peer goes silent without closing anything. */
  stall(): void;
  /** Calls the listener with the client port of every TCP connection accepted from now on. */
  onConnection(listener: (clientPort: number) => void): () => void;
  close(): Promise<void>;
}

export async function startTestSshServer(options: TestSshServerOptions): Promise<TestSshServer> {
  const host = generateKeyPair({ comment: "test-host" });
  const authorized = parse(options.authorizedKey);
  const maxSessions = options.maxSessions ?? 10;
  const stats: TestSshServerStats = { connections: 0, authAttempts: 0, authenticated: 0, execs: 0, activeExecs: 0, maxActiveExecs: 0, refusedSessions: 0 };
  const sockets = new Set<Socket>();
  // Raw sockets by client port, so a failing handler can cut its own connection.
  const byPort = new Map<number, Socket>();
  const connectionListeners = new Set<(clientPort: number) => void>();

  const sshServer = new ssh2.Server({ hostKeys: [host.privateKey] }, (client: Connection, clientInfo: ClientInfo) => {
    const socket = byPort.get(clientInfo.port);
    // Sessions of this connection, aborted when it goes: ssh2 emits no session close then.
    const sessions = new Set<AbortController>();
    client.on("error", () => {
      // A client that vanishes mid-handshake is what some tests do on purpose.
    });
    client.on("authentication", (ctx) => {
      stats.authAttempts++;
      if (ctx.method === "publickey" && (options.username === undefined || ctx.username === options.username) && keyMatches(ctx, authorized)) {
        if (ctx.signature === undefined || ctx.blob === undefined) ctx.accept();
        else if (authorized.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) ctx.accept();
        else ctx.reject(["publickey"]);
        return;
      }
      ctx.reject(["publickey"]);
    });
    client.on("ready", () => {
      stats.authenticated++;
      client.on("session", (accept, reject) => {
        if (sessions.size >= maxSessions) {
          stats.refusedSessions++;
          reject();
          return;
        }
        const gone = new AbortController();
        sessions.add(gone);
        stats.activeExecs++;
        stats.maxActiveExecs = Math.max(stats.maxActiveExecs, stats.activeExecs);
        const finish = () => {
          if (!sessions.delete(gone)) return;
          stats.activeExecs--;
          gone.abort(new Error("channel closed"));
        };
        const session: Session = accept();
        session.once("close", finish);
        session.once("exec", (acceptExec, _rejectExec, info: { command: string }) => {
          stats.execs++;
          void runExec(acceptExec(), info.command, gone.signal, clientInfo.port, () => socket?.destroy());
        });
      });
    });
    client.once("close", () => {
      for (const gone of [...sessions]) {
        sessions.delete(gone);
        stats.activeExecs--;
        gone.abort(new Error("connection closed"));
      }
    });
  });

  const runExec = async (channel: ServerChannel, command: string, signal: AbortSignal, clientPort: number, cut: () => void): Promise<void> => {
    let code: number;
    try {
      if (options.execDelayMs) await sleep(options.execDelayMs, undefined, { signal });
      code = await options.handler({ command, stdin: channel, stdout: channel, stderr: channel.stderr, signal, clientPort });
    } catch {
      // A handler rejects to simulate a network failure mid-command (see ExecHandler).
      if (!signal.aborted) cut();
      return;
    }
    if (signal.aborted || !channel.writable) return;
    channel.exit(code);
    channel.end();
  };

  const net: NetServer = createServer((socket) => {
    stats.connections++;
    // Nagle on either side costs ~40 ms per exec round trip.
    socket.setNoDelay(true);
    sockets.add(socket);
    const port = socket.remotePort;
    if (port !== undefined) byPort.set(port, socket);
    if (port !== undefined) for (const listener of connectionListeners) listener(port);
    socket.once("close", () => {
      sockets.delete(socket);
      if (port !== undefined) byPort.delete(port);
    });
    sshServer.injectSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    net.once("error", reject);
    net.listen(0, "127.0.0.1", () => resolve());
  });
  const address = net.address();
  if (address === null || typeof address === "string") throw new Error("test SSH server has no TCP address");

  return {
    host: "127.0.0.1",
    port: address.port,
    fingerprint: host.fingerprint,
    stats,
    onConnection(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    stall() {
      for (const socket of sockets) {
        socket.pause();
        socket.removeAllListeners("data");
      }
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => net.close(() => resolve()));
    },
  };
}

function parse(publicKey: string): ParsedKey {
  const key = ssh2.utils.parseKey(publicKey);
  if (key instanceof Error) throw key;
  return key;
}

function keyMatches(ctx: PublicKeyAuthContext, key: ParsedKey): boolean {
  return ctx.key.algo === key.type && ctx.key.data.equals(key.getPublicSSH());
}
