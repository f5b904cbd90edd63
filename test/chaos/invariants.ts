// Pure: the invariants of a chaos run, checked on a snapshot of what the run left behind and
// what it recorded on the way. Each returns human-readable violations; none means it holds.
import type { FinalStatus } from "./schedule.ts";

export interface OrderView {
  id: string;
  subscription: string;
  email: string;
  /** The subscription's status in Stripe at the end. */
  status: FinalStatus;
}

export interface OpsSiteView {
  name: string;
  domain: string;
  email: string;
  /** When ops deleted the HostedSite (ms since the epoch); null if kept. */
  deletedAt: number | null;
}

export interface HostedSiteView {
  name: string;
  subscription: string | undefined;
  domain: string;
  email: string;
  suspended: boolean;
  expiresAt: string | undefined;
  ready: { status: string; reason: string } | undefined;
  deleting: boolean;
  /** The observed generation equals the generation. */
  observedCurrent: boolean;
}

export interface AegirTaskView {
  nid: number;
  type: string;
  /** 0 queued, -1 processing, 1 succeeded, 2 failed. */
  status: number;
  /** Unix seconds. */
  created: number;
}

export interface AegirSiteView {
  nid: number;
  uri: string;
  /** -2 deleted, -1 disabled, 0 queued, 1 enabled. */
  status: number;
  tasks: AegirTaskView[];
  /** Welcome mails sent by the site (`register_admin_created`), by recipient. */
  welcomeMails: string[];
  users: Array<{ uid: number; mail: string; roles: string[]; status: number }>;
}

export interface WriteView {
  /** ms since the epoch. */
  at: number;
  via: "ssh" | "api";
  what: string;
  /** The controller replica that sent it; undefined when it could not be told. */
  identity: string | undefined;
}

export interface LeaseChange {
  at: number;
  holder: string;
}

export interface Snapshot {
  orders: OrderView[];
  opsSites: OpsSiteView[];
  hostedSites: HostedSiteView[];
  /** Every site node the Aegir server ever had, deleted ones included. */
  aegirSites: AegirSiteView[];
  /** Accounts on the support tracker, by mail. */
  trackerAccounts: string[];
  ownerRole: string;
  writes: WriteView[];
  leases: LeaseChange[];
  now: number;
}

const SITE_DELETED = -2;
const SITE_DISABLED = -1;
const SITE_ENABLED = 1;
const TASK_SUCCEEDED = 1;

function liveNode(s: Snapshot, uri: string): AegirSiteView | undefined {
  return s.aegirSites.find((a) => a.uri === uri && a.status !== SITE_DELETED);
}

function readyOf(site: HostedSiteView): string {
  return site.ready === undefined ? "no Ready condition" : `Ready=${site.ready.status} (${site.ready.reason})`;
}

/** Where the system must have arrived once faults stop. Also used to wait for convergence. */
export function convergenceViolations(s: Snapshot): string[] {
  const out: string[] = [];
  for (const order of s.orders) {
    const sites = s.hostedSites.filter((h) => h.subscription === order.subscription);
    if (sites.length !== 1) {
      out.push(`order ${order.id} (${order.subscription}) has ${sites.length} HostedSites, want exactly 1`);
      continue;
    }
    const site = sites[0]!;
    if (!site.observedCurrent) out.push(`order ${order.id}: ${site.name} not yet observed at its generation`);
    const node = liveNode(s, site.domain);
    switch (order.status) {
      case "active":
        if (site.suspended || site.expiresAt !== undefined) out.push(`order ${order.id} is active but ${site.name} is suspended or expiring`);
        if (site.ready?.status !== "True") out.push(`order ${order.id} is active but ${site.name} is ${readyOf(site)}`);
        if (node?.status !== SITE_ENABLED) out.push(`order ${order.id} is active but its Aegir site is ${node === undefined ? "missing" : `in status ${node.status}`}`);
        break;
      case "past_due":
      case "unpaid":
        if (!site.suspended) out.push(`order ${order.id} is ${order.status} past its grace period but ${site.name} is not suspended`);
        if (site.ready?.reason !== "Suspended") out.push(`order ${order.id} is ${order.status} but ${site.name} is ${readyOf(site)}, want Suspended`);
        if (node !== undefined && node.status !== SITE_DISABLED) out.push(`order ${order.id} is suspended but its Aegir site is in status ${node.status}`);
        break;
      case "canceled":
        if (site.expiresAt === undefined || Date.parse(site.expiresAt) > s.now) out.push(`order ${order.id} is canceled but ${site.name} has expiresAt ${site.expiresAt ?? "unset"}`);
        if (site.ready?.reason !== "Expired") out.push(`order ${order.id} is canceled but ${site.name} is ${readyOf(site)}, want Expired`);
        if (node !== undefined && node.status !== SITE_DISABLED) out.push(`order ${order.id} expired but its Aegir site is in status ${node.status}`);
        break;
    }
  }
  for (const ops of s.opsSites) {
    const site = s.hostedSites.find((h) => h.name === ops.name);
    if (ops.deletedAt !== null) {
      if (site !== undefined) out.push(`ops site ${ops.name} was deleted but its HostedSite is still there (${site.deleting ? "terminating" : "live"})`);
      if (liveNode(s, ops.domain) !== undefined) out.push(`ops site ${ops.name} was deleted but its Aegir site ${ops.domain} is still there`);
    } else if (site === undefined) out.push(`ops site ${ops.name} is missing`);
    else if (site.ready?.status !== "True") out.push(`ops site ${ops.name} is ${readyOf(site)}`);
    else if (!site.observedCurrent) out.push(`ops site ${ops.name} not yet observed at its generation`);
  }
  // Ready sites have their owner (never uid 1, with the owner role), one welcome mail and one support account.
  for (const site of s.hostedSites.filter((h) => h.ready?.status === "True")) {
    const node = liveNode(s, site.domain);
    const owners = node?.users.filter((u) => u.mail === site.email) ?? [];
    if (owners.length !== 1 || owners[0]!.uid <= 1 || !owners[0]!.roles.includes(s.ownerRole)) {
      out.push(`${site.name} is Ready but its owner accounts are ${JSON.stringify(owners)}`);
    }
    const mails = node?.welcomeMails.filter((to) => to === site.email).length ?? 0;
    if (mails !== 1) out.push(`${site.name} is Ready but ${mails} welcome mails went to its owner`);
    const support = s.trackerAccounts.filter((m) => m === site.email).length;
    if (support !== 1) out.push(`${site.name} is Ready but its owner has ${support} support tracker accounts`);
  }
  return out;
}

/** What must never have happened, whatever the faults. */
export function safetyViolations(s: Snapshot): string[] {
  const out: string[] = [];
  const byUri = new Map<string, AegirSiteView[]>();
  for (const a of s.aegirSites) byUri.set(a.uri, [...(byUri.get(a.uri) ?? []), a]);
  for (const [uri, nodes] of byUri) {
    if (nodes.length > 1) out.push(`${uri} was created ${nodes.length} times in Aegir`);
    const installs = nodes.flatMap((n) => n.tasks).filter((t) => t.type === "install").length;
    if (installs > 1) out.push(`${uri} was installed ${installs} times`);
    for (const node of nodes) {
      const recipients = new Map<string, number>();
      for (const to of node.welcomeMails) recipients.set(to, (recipients.get(to) ?? 0) + 1);
      for (const [to, n] of recipients) if (n > 1) out.push(`${uri} sent ${n} welcome mails to ${to}`);
    }
  }
  const accounts = new Map<string, number>();
  for (const mail of s.trackerAccounts) accounts.set(mail, (accounts.get(mail) ?? 0) + 1);
  for (const [mail, n] of accounts) if (n > 1) out.push(`${n} support tracker accounts for ${mail}`);

  // Deletion only of sites ops deleted, only after a successful backup taken after the disable.
  for (const node of s.aegirSites) {
    const deletes = node.tasks.filter((t) => t.type === "delete");
    if (deletes.length === 0) continue;
    const ops = s.opsSites.find((o) => o.domain === node.uri);
    const first = deletes.reduce((a, b) => (a.nid < b.nid ? a : b));
    if (ops?.deletedAt === null || ops === undefined) {
      out.push(`Aegir site ${node.uri} got a delete task but its HostedSite was never deleted`);
      continue;
    }
    // Task times are whole seconds.
    if (first.created < Math.floor(ops.deletedAt / 1000)) out.push(`Aegir site ${node.uri} got a delete task before its HostedSite was deleted`);
    const disabled = Math.max(0, ...node.tasks.filter((t) => t.type === "disable" && t.nid < first.nid).map((t) => t.nid));
    const backedUp = node.tasks.some((t) => t.type === "backup" && t.status === TASK_SUCCEEDED && t.nid > disabled && t.nid < first.nid);
    if (!backedUp) out.push(`Aegir site ${node.uri} was deleted without a successful backup after it was disabled`);
  }

  // One acting controller: every write comes from the replica holding the lease at that moment.
  const leases = [...s.leases].sort((a, b) => a.at - b.at);
  const holderAt = (t: number) => {
    let holder: string | undefined;
    for (const l of leases) {
      if (l.at > t) break;
      holder = l.holder;
    }
    return holder;
  };
  for (const w of s.writes) {
    if (w.identity === undefined) {
      out.push(`a ${w.via} write (${w.what}) at ${new Date(w.at).toISOString()} came from no known replica`);
      continue;
    }
    const holder = holderAt(w.at);
    if (holder !== w.identity) out.push(`${w.identity} wrote (${w.via} ${w.what}) at ${new Date(w.at).toISOString()} while the lease was held by ${holder ?? "nobody"}`);
  }
  return out;
}
