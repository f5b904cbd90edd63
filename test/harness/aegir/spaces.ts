// Open Atrium spaces on a simulated site: oa_space nodes that are Organic Groups groups, their
// memberships and OG roles, the Space Blueprint terms, and the operator's space scripts
// (reconcilers/aegir/space-scripts.ts) with the semantics of their PHP, the quota module's
// hook_og_membership_presave() included.
import { LEGACY_VARIABLES, SPACE_MODULE, SPACE_MODULE_VERSION, SPACES_TABLE } from "../../../reconcilers/aegir/space-scripts.ts";
import type { SPACE_SCRIPTS } from "../../../reconcilers/aegir/space-scripts.ts";
import { unixTime } from "./clock.ts";
import { type DrupalSite, type DrupalUser, addUser, userByMail, userByName } from "./drupal.ts";
import { type DrushResult, done, failed, phpJson, printed } from "./result.ts";
import { type BootstrappedSite, type ScriptEnv, tableMissing } from "./php-scripts.ts";

export type SpaceScriptName = keyof typeof SPACE_SCRIPTS;

export const SPACE_SCRIPT_KIND: Record<SpaceScriptName, "read" | "write"> = {
  "space-list": "read",
  "space-state": "read",
  "space-module": "write",
  "space-ensure": "write",
  "space-owner": "write",
  "space-welcome": "write",
  "space-delete": "write",
};

export const OG_STATE_ACTIVE = 1;
export const OG_STATE_PENDING = 2;
export const OG_MEMBER_ROLE = "member";
export const OG_ADMINISTRATOR_ROLE = "administrator member";

export interface SpaceNode {
  nid: number;
  title: string;
  /** node.status: 1 published, 0 unpublished (archived). */
  status: 0 | 1;
  /** group_access: 0 public, 1 private. */
  groupAccess: 0 | 1;
  blueprintTid: number;
  /** uid => membership. */
  members: Map<number, { state: number; roles: string[] }>;
}

export interface WelcomeMarker {
  state: string;
  at: number;
}

/** The quota module's tables, once it made them. */
export interface SpaceTables {
  /** aegir_operator_spaces: machine name => nid and quota. */
  spaces: Map<string, { nid: number; quota: number }>;
  /** aegir_operator_space_welcomes: nid => uid => marker. */
  welcomes: Map<number, Map<number, WelcomeMarker>>;
}

export interface OpenAtriumState {
  /** space_type terms: tid => name. */
  blueprints: Map<number, string>;
  spaces: Map<number, SpaceNode>;
  nextNid: number;
  /** The .info version of the quota module written into the site's directory. */
  moduleVersion: string | undefined;
  tables: SpaceTables | undefined;
}

const states = new WeakMap<DrupalSite, OpenAtriumState>();

/** The Open Atrium side of a site, created on first use with OA's stock blueprints. */
export function openAtrium(drupal: DrupalSite): OpenAtriumState {
  let state = states.get(drupal);
  if (state === undefined) {
    state = { blueprints: new Map([[1, "Default"], [2, "Team Space"]]), spaces: new Map(), nextNid: 100, moduleVersion: undefined, tables: undefined };
    states.set(drupal, state);
  }
  return state;
}

const isOpenAtrium = (drupal: DrupalSite) => drupal.modules.includes("og") && drupal.modules.includes("oa_core");

type Input = Record<string, unknown>;
const str = (input: Input, key: string) => (typeof input[key] === "string" ? input[key] : "");
const record = (value: unknown): Record<string, unknown> => (typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {});

/** The space's nid from the module's table, or 0 (also before the module made its tables). */
function spaceNid(drupal: DrupalSite, machine: string): number {
  return openAtrium(drupal).tables?.spaces.get(machine)?.nid ?? 0;
}

/** A space's node by the operator's machine name. */
export function spaceByMachine(drupal: DrupalSite, machine: string): SpaceNode | undefined {
  return openAtrium(drupal).spaces.get(spaceNid(drupal, machine));
}

export function activeMembers(space: SpaceNode): number {
  return [...space.members.values()].filter((m) => m.state === OG_STATE_ACTIVE).length;
}

const isSiteAdmin = (user: DrupalUser) => user.uid === 1 || user.roles.includes("administrator");

/**
 * og_group() with the quota module's presave hook: refused (the hook's OgException message)
 * when the module is enabled and the space is at its quota.
 */
export function joinSpace(drupal: DrupalSite, space: SpaceNode, uid: number): { ok: true } | { ok: false; message: string } {
  const existing = space.members.get(uid);
  if (existing?.state === OG_STATE_ACTIVE) return { ok: true };
  const quota = [...(openAtrium(drupal).tables?.spaces.values() ?? [])].find((row) => row.nid === space.nid)?.quota;
  if (drupal.modules.includes(SPACE_MODULE) && quota !== undefined && activeMembers(space) >= quota) {
    return { ok: false, message: `This space has reached its limit of ${quota} members.` };
  }
  space.members.set(uid, { state: OG_STATE_ACTIVE, roles: existing?.roles ?? [OG_MEMBER_ROLE] });
  return { ok: true };
}

export function runSpaceScript(env: ScriptEnv, script: SpaceScriptName, site: BootstrappedSite, input: Input): DrushResult {
  const { drupal } = site;
  // A site without Organic Groups has no group tables: the first query throws.
  if (!isOpenAtrium(drupal)) return tableMissing(env.database, site, "field_data_group_access");
  const oa = openAtrium(drupal);
  switch (script) {
    case "space-list":
      return spaceList(drupal, oa);
    case "space-state":
      return spaceState(drupal, oa, input);
    case "space-module":
      oa.moduleVersion = SPACE_MODULE_VERSION;
      if (!drupal.modules.includes(SPACE_MODULE)) drupal.modules.push(SPACE_MODULE);
      oa.tables ??= legacyTables(drupal);
      return done(printed(phpJson({ version: oa.moduleVersion })));
  }
  // The writes need the module's tables.
  const tables = oa.tables;
  if (tables === undefined) return tableMissing(env.database, site, SPACES_TABLE);
  switch (script) {
    case "space-ensure":
      return spaceEnsure(drupal, oa, tables, input);
    case "space-owner":
      return spaceOwner(env, drupal, oa, input);
    case "space-welcome":
      return spaceWelcome(env, drupal, oa, tables, input);
    case "space-delete":
      return spaceDelete(drupal, oa, tables, input);
  }
}

/** The tables made over 7.x-1.0's array variables: their entries moved in, the variables deleted. */
function legacyTables(drupal: DrupalSite): SpaceTables {
  const tables: SpaceTables = { spaces: new Map(), welcomes: new Map() };
  const quotas = record(drupal.variables.get(LEGACY_VARIABLES.quotas));
  for (const [machine, nid] of Object.entries(record(drupal.variables.get(LEGACY_VARIABLES.spaces)))) {
    tables.spaces.set(machine, { nid: Number(nid), quota: Number(quotas[String(nid)] ?? 1) });
  }
  for (const [nid, markers] of Object.entries(record(drupal.variables.get(LEGACY_VARIABLES.welcomes)))) {
    tables.welcomes.set(Number(nid), new Map(Object.entries(record(markers)).map(([uid, m]) => [Number(uid), m as WelcomeMarker])));
  }
  for (const name of Object.values(LEGACY_VARIABLES)) drupal.variables.delete(name);
  return tables;
}

function spaceList(drupal: DrupalSite, oa: OpenAtriumState): DrushResult {
  const spaces = [...(oa.tables?.spaces ?? [])].flatMap(([machine, row]) => spaceRow(oa, machine, row.nid) ?? []);
  const module = drupal.modules.includes(SPACE_MODULE) ? (oa.moduleVersion ?? null) : null;
  return done(printed(phpJson({ module, spaces })));
}

/** _aegir_operator_space_rows() for one space: null when its node is gone. */
function spaceRow(oa: OpenAtriumState, machine: string, nid: number) {
  const space = oa.spaces.get(nid);
  if (space === undefined) return null;
  const quota = oa.tables?.spaces.get(machine)?.quota;
  const admins = [...space.members].filter(([, m]) => m.state === OG_STATE_ACTIVE && m.roles.includes(OG_ADMINISTRATOR_ROLE)).map(([uid]) => uid).sort((a, b) => a - b);
  const welcome = Object.fromEntries([...(oa.tables?.welcomes.get(nid) ?? [])].map(([uid, m]) => [String(uid), m.state]));
  return { machine, nid: space.nid, title: space.title, published: space.status === 1, public: space.groupAccess === 0, blueprint: oa.blueprints.get(space.blueprintTid) ?? "", quota: quota ?? null, members: activeMembers(space), admins, welcome };
}

function account(user: DrupalUser) {
  return { uid: user.uid, name: user.name, mail: user.mail, status: user.status, roles: [...user.roles], siteAdmin: isSiteAdmin(user) };
}

function spaceState(drupal: DrupalSite, oa: OpenAtriumState, input: Input): DrushResult {
  const owner = record(input["owner"]);
  const nid = spaceNid(drupal, str(input, "machine"));
  const user = userByMail(drupal, str(owner, "mail"));
  const member = user ? oa.spaces.get(nid)?.members.get(user.uid) : undefined;
  const welcome = user ? (oa.tables?.welcomes.get(nid)?.get(user.uid) ?? null) : null;
  return done(
    printed(
      phpJson({
        nid,
        owner: user ? account(user) : null,
        membership: member ? { state: member.state, admin: member.roles.includes(OG_ADMINISTRATOR_ROLE) } : null,
        welcome,
      }),
    ),
  );
}

function spaceEnsure(drupal: DrupalSite, oa: OpenAtriumState, tables: SpaceTables, input: Input): DrushResult {
  const machine = str(input, "machine");
  const blueprint = [...oa.blueprints].find(([, name]) => name === str(input, "blueprint"));
  if (blueprint === undefined) return failed(`Blueprint ${str(input, "blueprint")} is not a space type on this site.`);
  let space = oa.spaces.get(spaceNid(drupal, machine));
  const created = space === undefined;
  if (space === undefined) {
    // Authored by uid 0: Organic Groups adds no member on creation.
    space = { nid: oa.nextNid++, title: "", status: 1, groupAccess: 1, blueprintTid: blueprint[0], members: new Map() };
    oa.spaces.set(space.nid, space);
  }
  space.title = str(input, "title");
  space.status = input["published"] === true ? 1 : 0;
  space.groupAccess = input["public"] === true ? 0 : 1;
  space.blueprintTid = blueprint[0];
  tables.spaces.set(machine, { nid: space.nid, quota: Number(input["quota"]) });
  return done(printed(phpJson({ nid: space.nid, created, space: spaceRow(oa, machine, space.nid) })));
}

function spaceOwner(env: ScriptEnv, drupal: DrupalSite, oa: OpenAtriumState, input: Input): DrushResult {
  const machine = str(input, "machine");
  const space = oa.spaces.get(spaceNid(drupal, machine));
  if (space === undefined) return failed(`Space ${machine} does not exist.`);
  let user = userByMail(drupal, str(input, "mail"));
  let created = false;
  if (user === undefined) {
    if (userByName(drupal, str(input, "name"))) return failed(`There is already a user account with the name ${str(input, "name")}`);
    user = addUser(drupal, { name: str(input, "name"), mail: str(input, "mail"), now: unixTime(env.clock) });
    created = true;
  }
  if (isSiteAdmin(user)) return failed(`Account ${user.name} is a site administrator; a space owner must be an ordinary account.`);
  const joined = joinSpace(drupal, space, user.uid);
  if (!joined.ok) return failed(`Space ${machine} is full: ${joined.message}`);
  const member = space.members.get(user.uid);
  if (member && !member.roles.includes(OG_ADMINISTRATOR_ROLE)) member.roles.push(OG_ADMINISTRATOR_ROLE);
  return done(printed(phpJson({ uid: user.uid, created, space: spaceRow(oa, machine, space.nid) })));
}

function spaceWelcome(env: ScriptEnv, drupal: DrupalSite, oa: OpenAtriumState, tables: SpaceTables, input: Input): DrushResult {
  const machine = str(input, "machine");
  const nid = spaceNid(drupal, machine);
  const space = oa.spaces.get(nid);
  if (space === undefined) return failed(`Space ${machine} does not exist.`);
  const user = userByMail(drupal, str(input, "mail"));
  if (user === undefined) return failed(`Unable to find a matching user for ${str(input, "mail")}.`);
  const expected = Number(input["uid"]);
  if (user.uid <= 1 || user.uid !== expected) return failed(`Refusing a login link for uid ${user.uid}: the space owner is uid ${expected}.`);
  const markers = tables.welcomes.get(nid) ?? new Map<number, WelcomeMarker>();
  tables.welcomes.set(nid, markers);
  const existing = markers.get(user.uid);
  if (existing) return done(printed(phpJson({ uid: user.uid, sent: false, marker: existing, space: spaceRow(oa, machine, nid) })));
  const now = unixTime(env.clock);
  const set = (state: string) => markers.set(user.uid, { state, at: now });
  set("sending");
  const sent = !env.faults.takeMail();
  if (sent) drupal.outbox.push({ to: user.mail, uid: user.uid, kind: "space_welcome", subject: `Your space ${space.title}`, at: now });
  set(sent ? "sent" : "failed");
  return done(printed(phpJson({ uid: user.uid, sent, marker: { state: sent ? "sent" : "failed", at: now }, space: spaceRow(oa, machine, nid) })));
}

function spaceDelete(drupal: DrupalSite, oa: OpenAtriumState, tables: SpaceTables, input: Input): DrushResult {
  const machine = str(input, "machine");
  const nid = spaceNid(drupal, machine);
  if (nid > 0) {
    oa.spaces.delete(nid);
    tables.spaces.delete(machine);
    tables.welcomes.delete(nid);
  }
  return done(printed(phpJson({ deleted: nid > 0 })));
}
