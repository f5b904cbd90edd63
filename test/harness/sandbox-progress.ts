// The sandbox's live progress, what `npm start` prints once it is up: a line whenever a site's or
// a space's Ready condition changes, and one when its owner has been welcomed by mail.
import type { KubeObject } from "./kube/index.ts";

const SHORT_NAMES: Record<string, string> = { HostedSite: "hs", HostedSpace: "hsp" };

interface Watched {
  kind?: string;
  metadata?: { namespace?: string; name?: string; creationTimestamp?: string };
  spec?: { owner?: { email?: string } };
  status?: {
    conditions?: Array<{ type: string; status: string; reason: string }>;
    owner?: { name?: string; uid?: number; welcomedAt?: string; welcome?: string };
  };
}

/** Remembers what it printed, so each change is one line: the lines `object` adds now. */
export function progressLines(): (object: KubeObject | Watched, now: Date) => string[] {
  const seen = new Map<string, string>();
  return (object, now) => {
    const o = object as Watched;
    const short = SHORT_NAMES[o.kind ?? ""];
    if (short === undefined) return [];
    const key = `${short} ${o.metadata?.namespace}/${o.metadata?.name}`;
    const time = now.toISOString().slice(11, 19);
    const lines: string[] = [];
    const ready = o.status?.conditions?.find((c) => c.type === "Ready");
    if (ready !== undefined && seen.get(key) !== `${ready.status} ${ready.reason}`) {
      seen.set(key, `${ready.status} ${ready.reason}`);
      const age = ((now.getTime() - Date.parse(o.metadata?.creationTimestamp ?? "")) / 1000).toFixed(1);
      lines.push(`  ${time}  ${key.padEnd(32)} Ready=${ready.status.padEnd(7)} ${ready.reason.padEnd(22)} ${age} s`);
    }
    const owner = o.status?.owner;
    if (owner?.welcomedAt !== undefined && !seen.has(`${key} welcome`)) {
      seen.set(`${key} welcome`, owner.welcomedAt);
      lines.push(`  ${time}  ${key.padEnd(32)} owner ${owner.name ?? "?"} (uid ${owner.uid ?? "?"}) welcome mail to ${o.spec?.owner?.email ?? "?"}: ${owner.welcome ?? "Sent"}`);
    }
    return lines;
  };
}
