// Which process owns a loopback TCP connection, from Linux's /proc: the chaos suite attributes
// every write that reaches the fake API server or the simulated Aegir to the controller replica
// that sent it, without the controller having to say who it is.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** `0100007F:1F90` → port 8080 (the address part is not needed: everything is on loopback). */
function portOf(address: string): number {
  return Number.parseInt(address.split(":")[1] ?? "", 16);
}

/** Socket inodes of connections whose local port is `localPort` and remote port `remotePort`. */
function socketInodes(localPort: number, remotePort: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      if (portOf(fields[1]!) === localPort && portOf(fields[2]!) === remotePort) inodes.add(fields[9]!);
    }
  }
  return inodes;
}

/**
 * The pid among `candidates` holding the client end of the connection from `clientPort` to
 * `serverPort`, or undefined (not one of them, or already gone).
 */
export function socketOwner(clientPort: number, serverPort: number, candidates: Iterable<number>): number | undefined {
  const inodes = socketInodes(clientPort, serverPort);
  if (inodes.size === 0) return undefined;
  for (const pid of candidates) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) return pid;
    }
  }
  return undefined;
}

/** True where /proc can answer (Linux). */
export function canAttributeSockets(): boolean {
  try {
    readFileSync("/proc/net/tcp", "utf8");
    return true;
  } catch {
    return false;
  }
}
