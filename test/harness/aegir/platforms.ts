// Platforms the simulated hostmaster can carry. The Open Atrium one follows OA 7.x-2.652:
// its default apps, oa_theme, and the Panopoly roles (there is no "manager" role in OA2 unless
// the platform adds one, which `extraRoles` models).

export interface ProfileSpec {
  /** Install profile machine name (`openatrium`). */
  name: string;
  /** Modules the profile enables on install. */
  defaultModules: string[];
  /** Theme the profile sets as theme_default on install. */
  defaultTheme: string;
  /** Roles the profile creates, besides anonymous and authenticated user. */
  roles: string[];
}

export interface PlatformSpec {
  /** Context name without `@`: `platform_openatrium2652`. */
  name: string;
  /** hosting_platform.status: 1 enabled, 0 queued, -1 locked, -2 deleted. */
  status?: number;
  profiles: ProfileSpec[];
  /** Every module on the platform (enabled or not on a given site). */
  modules: string[];
  themes: string[];
  /** Module → modules it depends on (its .info file); a dependency may be missing from the platform. */
  dependencies?: Record<string, string[]>;
  /** Theme → its base themes. */
  baseThemes?: Record<string, string[]>;
}

const DRUPAL_CORE = ["block", "comment", "contextual", "dashboard", "dblog", "field", "field_sql_storage", "field_ui", "file", "filter", "help", "image", "list", "menu", "node", "number", "options", "path", "rdf", "search", "shortcut", "system", "taxonomy", "text", "toolbar", "user"];
const CORE_THEMES = ["bartik", "garland", "seven", "stark"];

const standard: ProfileSpec = { name: "standard", defaultModules: DRUPAL_CORE, defaultTheme: "bartik", roles: ["administrator"] };
const minimal: ProfileSpec = { name: "minimal", defaultModules: ["block", "dblog", "filter", "node", "system", "user"], defaultTheme: "bartik", roles: [] };

const OA_CORE = ["oa_core", "oa_access", "oa_adminrole", "oa_buttons", "oa_config", "oa_date", "oa_diff", "oa_layouts", "oa_messages", "oa_news", "oa_panopoly_users", "oa_permissions", "oa_river", "oa_section_context", "oa_sections", "oa_teams", "oa_update", "oa_users", "oa_variables", "oa_widgets", "oa_wysiwyg"];
const OA_DEFAULT_APPS = ["oa_discussion", "oa_events", "oa_wiki", "oa_worktracker", "oa_admin", "oa_appearance", "oa_archive", "oa_brand", "oa_clone", "oa_comment", "oa_contextual_tabs", "oa_events_import", "oa_export", "oa_favorites", "oa_files", "oa_home", "oa_htmlmail", "oa_media", "oa_messages_digest", "oa_notifications", "oa_related", "oa_sandbox", "oa_search", "oa_sitemap", "oa_site_layout", "oa_site_layout_defaults", "oa_styles", "oa_subspaces", "oa_toolbar", "oa_tour", "oa_tour_defaults", "oa_wizard"];
const OA_OPTIONAL_APPS = ["oa_project", "oa_analytics", "oa_domains", "oa_devel", "oa_mailhandler", "oa_markdown"];
const OA_CONTRIB = ["ctools", "entity", "entityreference", "features", "og", "og_access", "og_ui", "panels", "panopoly_core", "panopoly_admin", "panopoly_users", "panopoly_widgets", "views", "user_limit"];

/** A few real .info dependencies of OA 2 contrib, enough for dependency checks. */
const OA_DEPENDENCIES: Record<string, string[]> = {
  views: ["ctools"],
  panels: ["ctools"],
  og_ui: ["og"],
  og_access: ["og"],
  og: ["entityreference"],
  entityreference: ["entity"],
  features: ["ctools"],
};

export interface OpenAtriumOptions {
  name?: string;
  /** Roles the platform's build adds to the profile, e.g. `manager`. */
  extraRoles?: string[];
  /** Modules (apps, premium features) the platform carries besides OA's own. */
  extraModules?: string[];
  /** Themes besides OA's and core's (a premium theme). */
  extraThemes?: string[];
}

/** An Open Atrium 2 platform (`platform_openatrium2652`) with the openatrium, standard and minimal profiles. */
export function openAtriumPlatform(options: OpenAtriumOptions = {}): PlatformSpec {
  const openatrium: ProfileSpec = {
    name: "openatrium",
    defaultModules: [...DRUPAL_CORE, ...OA_CONTRIB.filter((m) => m !== "user_limit"), ...OA_CORE, ...OA_DEFAULT_APPS],
    defaultTheme: "oa_theme",
    roles: ["administrator", "editor", ...(options.extraRoles ?? [])],
  };
  return {
    name: options.name ?? "platform_openatrium2652",
    status: 1,
    profiles: [openatrium, standard, minimal],
    modules: [...new Set([...DRUPAL_CORE, ...OA_CONTRIB, ...OA_CORE, ...OA_DEFAULT_APPS, ...OA_OPTIONAL_APPS, ...(options.extraModules ?? [])])],
    themes: [...new Set(["oa_theme", "oa_radix", ...CORE_THEMES, ...(options.extraThemes ?? [])])],
    dependencies: OA_DEPENDENCIES,
    baseThemes: { oa_theme: ["oa_radix"] },
  };
}

/** A plain Drupal 7 platform with the standard and minimal profiles. */
export function drupalPlatform(name = "platform_drupal759", extra: { modules?: string[]; themes?: string[]; roles?: string[] } = {}): PlatformSpec {
  return {
    name,
    status: 1,
    profiles: [{ ...standard, roles: [...standard.roles, ...(extra.roles ?? [])] }, minimal],
    modules: [...new Set([...DRUPAL_CORE, ...(extra.modules ?? [])])],
    themes: [...new Set([...CORE_THEMES, ...(extra.themes ?? [])])],
  };
}

/** The platform the hostmaster front end itself runs on. */
export function hostmasterPlatform(): PlatformSpec {
  return {
    name: "platform_hostmaster",
    status: 1,
    profiles: [{ name: "hostmaster", defaultModules: ["block", "dblog", "filter", "node", "system", "user", "hosting", "hosting_alias", "hosting_client", "hosting_https", "hosting_platform", "hosting_queued", "hosting_site", "hosting_task"], defaultTheme: "eldir", roles: ["administrator", "aegir client", "aegir account manager"] }],
    modules: ["block", "dblog", "filter", "node", "system", "user", "hosting", "hosting_alias", "hosting_client", "hosting_https", "hosting_platform", "hosting_queued", "hosting_site", "hosting_task", "hosting_clone", "hosting_migrate"],
    themes: ["eldir", "seven"],
  };
}
