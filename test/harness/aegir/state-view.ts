// A JSON picture of the simulated server (GET /state, the sandbox's Aegir panel, test failure
// messages). Codes are shown with their names.
import { SITE_STATUS, TASK_STATUS } from "../../../reconcilers/aegir/state.ts";
import type { Hostmaster } from "./model.ts";
import type { CommandCounts } from "./stats.ts";

export interface StateView {
  now: number;
  hostmaster: { uri: string; adminMail: string };
  platforms: Array<{ nid: number; name: string; status: number; profiles: Array<{ name: string; roles: string[]; defaultTheme: string }>; modules: number; themes: string[] }>;
  sites: Array<{
    nid: number;
    uri: string;
    status: { code: number; name: string };
    platform: string;
    profile: string;
    aliases: string[];
    https: number;
    applied: { aliases: string[]; https: number };
    verified: number;
    backups: Array<{ file: string; at: number }>;
    drupal: {
      modules: string[];
      themes: string[];
      variables: Record<string, unknown>;
      roles: string[];
      users: Array<{ uid: number; name: string; mail: string; status: number; roles: string[] }>;
      outbox: Array<{ to: string; kind: string; subject: string; at: number }>;
    } | null;
  }>;
  /** background: started by the operator in a process of its own (pool work), outside hosting-queued, whether it still runs or not. */
  tasks: Array<{ nid: number; type: string; site: string; status: { code: number; name: string }; executed: number; delta: number; background: boolean; log: string[] }>;
  queue: { queued: number; processing: number };
  commands: CommandCounts;
}

export function stateView(hm: Hostmaster, now: number, commands: CommandCounts): StateView {
  const platformName = (nid: number) => hm.platforms.get(nid)?.name ?? String(nid);
  const tasks = [...hm.tasks.values()].sort((a, b) => a.nid - b.nid);
  return {
    now,
    hostmaster: { uri: hm.options.uri, adminMail: hm.options.adminMail },
    platforms: [...hm.platforms.values()].map((p) => ({
      nid: p.nid,
      name: p.name,
      status: p.status,
      profiles: [...p.profiles.values()].map(({ spec }) => ({ name: spec.name, roles: spec.roles, defaultTheme: spec.defaultTheme })),
      modules: p.modules.size,
      themes: [...p.themes],
    })),
    sites: [...hm.sites.values()].map((s) => ({
      nid: s.nid,
      uri: s.uri,
      status: { code: s.status, name: SITE_STATUS[String(s.status) as keyof typeof SITE_STATUS] },
      platform: platformName(s.platform),
      profile: s.profile,
      aliases: s.aliases,
      https: s.https,
      applied: s.applied,
      verified: s.verified,
      backups: s.backups.map(({ file, at }) => ({ file, at })),
      drupal: s.drupal
        ? {
            modules: s.drupal.modules,
            themes: s.drupal.themes,
            variables: Object.fromEntries(s.drupal.variables),
            roles: s.drupal.roles,
            users: [...s.drupal.users.values()].map(({ uid, name, mail, status, roles }) => ({ uid, name, mail, status, roles })),
            outbox: s.drupal.outbox.map(({ to, kind, subject, at }) => ({ to, kind, subject, at })),
          }
        : null,
    })),
    tasks: tasks.map((t) => ({
      nid: t.nid,
      type: t.type,
      site: hm.sites.get(t.rid)?.uri ?? String(t.rid),
      status: { code: t.status, name: TASK_STATUS[String(t.status) as keyof typeof TASK_STATUS] },
      executed: t.executed,
      delta: t.delta,
      background: t.background === true,
      log: t.log.map((l) => `[${l.level}] ${l.message}`),
    })),
    queue: { queued: tasks.filter((t) => t.status === 0).length, processing: tasks.filter((t) => t.status === -1).length },
    commands,
  };
}
