// The hostmaster's data: nodes (servers, client, platforms, sites, tasks) with Aegir's node
// ids and status codes, the hosting_context table (context name → nid), and each installed
// site's Drupal state.
import { BACKGROUND_TASKS_VARIABLE } from "../../../reconcilers/aegir/scripts.ts";
import type { DrupalSite } from "./drupal.ts";
import type { PlatformSpec, ProfileSpec } from "./platforms.ts";

/** hosting_site.status */
export const SITE_DELETED = -2;
export const SITE_DISABLED = -1;
export const SITE_QUEUED = 0;
export const SITE_ENABLED = 1;

/** hosting_task.task_status */
export const TASK_PROCESSING = -1;
export const TASK_QUEUED = 0;
export const TASK_SUCCESS = 1;
export const TASK_FAILED = 2;

export interface PlatformNode {
  nid: number;
  name: string;
  status: number;
  /** Profile short name → its package node id and what it installs. */
  profiles: Map<string, { packageNid: number; spec: ProfileSpec }>;
  modules: Set<string>;
  themes: Set<string>;
  /** Module → the modules its .info file depends on. */
  dependencies: Map<string, string[]>;
  /** Theme → its base themes, nearest last (drupal_find_base_themes order). */
  baseThemes: Map<string, string[]>;
}

export interface SiteNode {
  nid: number;
  uri: string;
  status: number;
  platform: number;
  profile: string;
  client: number;
  dbServer: number;
  /** The node's fields (hosting_site_alias, hosting_https_site): what server-status reports. */
  aliases: string[];
  https: 0 | 1 | 2;
  /** What the last verify wrote into the vhost and alias: node changes apply on verify. */
  applied: { aliases: string[]; https: 0 | 1 | 2 };
  verified: number;
  /** The drush alias file exists (written by provision-save at the start of install). */
  aliasSaved: boolean;
  backups: Array<{ file: string; at: number; task: number }>;
  drupal: DrupalSite | undefined;
}

export interface TaskNode {
  nid: number;
  type: string;
  /** The node the task is for. */
  rid: number;
  status: number;
  /** Unix seconds the task started (0 while queued). */
  executed: number;
  /** Seconds it took. */
  delta: number;
  args: Record<string, string | number>;
  created: number;
  log: Array<{ message: string; level: string; at: number }>;
  /** Started in the background by create-site or queue-task (the hostmaster's variable forgets it once it ended). */
  background?: boolean;
}

export interface HostmasterOptions {
  /** The hostmaster's own URI (its site node title). */
  uri: string;
  /** Mail of the Aegir user that owns tasks: becomes uid 1's mail on every install. */
  adminMail: string;
  /** aegir_root on the server: where backups go. */
  aegirRoot: string;
}

export class Hostmaster {
  readonly options: HostmasterOptions;
  readonly platforms = new Map<number, PlatformNode>();
  readonly sites = new Map<number, SiteNode>();
  readonly tasks = new Map<number, TaskNode>();
  /** hosting_context: context name (no `@`) → nid. */
  readonly contexts = new Map<string, number>();
  readonly variables = new Map<string, unknown>();
  readonly serverNid: number;
  readonly dbServerNid: number;
  readonly clientNid: number;
  private nextNid = 1;
  private nextPackageNid = 100_000;

  constructor(options: HostmasterOptions) {
    this.options = options;
    this.serverNid = this.register("server_master");
    this.dbServerNid = this.register("server_localhost");
    this.clientNid = this.allocate();
    this.variables.set("hosting_default_db_server", this.dbServerNid);
    this.variables.set("hosting_default_client", this.clientNid);
  }

  allocate(): number {
    return this.nextNid++;
  }

  private register(context: string): number {
    const nid = this.allocate();
    this.contexts.set(context, nid);
    return nid;
  }

  addPlatform(spec: PlatformSpec): PlatformNode {
    if (this.contexts.has(spec.name)) throw new Error(`context ${spec.name} already exists`);
    const node: PlatformNode = {
      nid: this.register(spec.name),
      name: spec.name,
      status: spec.status ?? 1,
      profiles: new Map(spec.profiles.map((p) => [p.name, { packageNid: this.nextPackageNid++, spec: p }])),
      modules: new Set(spec.modules),
      themes: new Set(spec.themes),
      dependencies: new Map(Object.entries(spec.dependencies ?? {})),
      baseThemes: new Map(Object.entries(spec.baseThemes ?? {})),
    };
    this.platforms.set(node.nid, node);
    return node;
  }

  /** node_save of a new site node: registers its context. Queuing the install is the caller's job. */
  addSite(site: Omit<SiteNode, "nid" | "applied" | "backups" | "verified" | "aliasSaved" | "drupal" | "client" | "dbServer">, context = site.uri): SiteNode {
    const node: SiteNode = {
      ...site,
      nid: this.register(context),
      client: this.clientNid,
      dbServer: this.dbServerNid,
      applied: { aliases: [], https: 0 },
      verified: 0,
      aliasSaved: false,
      backups: [],
      drupal: undefined,
    };
    this.sites.set(node.nid, node);
    return node;
  }

  context(name: string): number | undefined {
    return this.contexts.get(name);
  }

  platformByName(name: string): PlatformNode | undefined {
    const nid = this.contexts.get(name);
    return nid === undefined ? undefined : this.platforms.get(nid);
  }

  /** The live (not deleted) site node of a URI, found through hosting_context like Aegir does. */
  siteByUri(uri: string): SiteNode | undefined {
    const nid = this.contexts.get(uri);
    return nid === undefined ? undefined : this.sites.get(nid);
  }

  /** module_exists() on the hostmaster site itself. */
  moduleEnabled(name: string): boolean {
    const nid = this.contexts.get("hostmaster");
    return (nid === undefined ? undefined : this.sites.get(nid))?.drupal?.modules.includes(name) ?? false;
  }

  /**
   * hosting_domain_allowed(): hosting_site refuses the URI of any live site (the hostmaster's
   * own included) and hosting_alias any live site's alias; `except` is the site being edited.
   */
  domainAllowed(domain: string, except?: number): boolean {
    for (const site of this.sites.values()) {
      if (site.nid === except || site.status === SITE_DELETED) continue;
      if (site.uri === domain || site.aliases.includes(domain)) return false;
    }
    return true;
  }

  /** Pending (queued or processing) tasks of a node. */
  pendingTasks(rid: number): TaskNode[] {
    return [...this.tasks.values()].filter((t) => t.rid === rid && (t.status === TASK_QUEUED || t.status === TASK_PROCESSING));
  }

  /** The tasks the operator's create-site and queue-task started in a process of their own (pool work): nids, as the variable lists them. */
  backgroundTasks(): Set<number> {
    const listed = this.variables.get(BACKGROUND_TASKS_VARIABLE);
    return new Set(Array.isArray(listed) ? listed.map((n) => Math.trunc(Number(n))) : []);
  }
}

