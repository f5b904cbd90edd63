// Builders for HostedSite reconciler tests.
import type { AegirServer, HostedSite } from "../../crds/kinds.ts";
import { HostedSiteSpec, type HostedSiteSpecInput } from "../../crds/hostedsite.ts";
import { AegirServerSpec } from "../../crds/aegirserver.ts";
import type { SiteState, SiteSummary, Task } from "../../reconcilers/aegir/state.ts";
import type { Desired } from "../../reconcilers/hostedsite/desired.ts";

export function hostedSite(spec: Partial<HostedSiteSpecInput> = {}, meta: Partial<HostedSite["metadata"]> = {}): HostedSite {
  return {
    apiVersion: "hosting.openatria.com/v1alpha1",
    kind: "HostedSite",
    metadata: { name: "acme", namespace: "customers", generation: 1, ...meta },
    spec: HostedSiteSpec.parse({
      domain: "acme.sites.example.com",
      profile: "openatrium",
      features: ["oa_wiki"],
      userQuota: 10,
      support: { tier: "Standard" },
      owner: { email: "jane@acme.example.com", name: "jane" },
      ...spec,
    }),
  };
}

export function aegirServer(name = "aegir-1", spec: Record<string, unknown> = {}): AegirServer {
  return {
    apiVersion: "hosting.openatria.com/v1alpha1",
    kind: "AegirServer",
    metadata: { name },
    spec: AegirServerSpec.parse({
      host: "127.0.0.1",
      hostKeySHA256: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
      privateKeySecretRef: { name: "k", namespace: "ns" },
      capacity: { maxSites: 100 },
      platforms: [{ name: "platform_oa", profile: "openatrium" }],
      supportTracker: { site: "@support.example.com", tierRoles: { Basic: "customer", Standard: "customer standard", Premium: "customer premium" } },
      ...spec,
    }),
  };
}

export function desired(overrides: Partial<Desired> = {}): Desired {
  return {
    uri: "acme.sites.example.com",
    alias: "@acme.sites.example.com",
    server: "aegir-1",
    platform: "platform_oa",
    migrateAfter: undefined,
    profile: "openatrium",
    aliases: [],
    https: "Disabled",
    features: ["oa_wiki"],
    theme: undefined,
    userQuota: 10,
    owner: { name: "jane", mail: "jane@acme.example.com", role: "manager" },
    enabled: true,
    suspended: false,
    expired: false,
    expiresAt: undefined,
    cancelAt: undefined,
    deleting: false,
    deletionPolicy: "Delete",
    createSettleMs: 600_000,
    support: {
      server: "aegir-1",
      site: "@support.example.com",
      role: "customer standard",
      tierRoles: ["customer", "customer premium", "customer standard"],
      account: "jane.acme.example.com",
      mail: "jane@acme.example.com",
    },
    ...overrides,
  };
}

export function task(nid: number, type: string, status: Task["status"]): Task {
  return { nid, type, status, executed: 0, delta: 0, background: false };
}

export function summary(overrides: Partial<SiteSummary> = {}): SiteSummary {
  return {
    nid: 10,
    uri: "acme.sites.example.com",
    status: "enabled",
    verified: 0,
    platform: "platform_oa",
    profile: "openatrium",
    aliases: [],
    https: "Disabled",
    tasks: [task(11, "install", "succeeded")],
    ...overrides,
  };
}

/** A converged site for desired(): the plan for it is empty. */
export function deepState(overrides: Partial<SiteState> = {}): SiteState {
  return {
    modules: ["system", "user", "oa_core", "oa_wiki", "user_limit"],
    available: ["system", "user", "oa_core", "oa_wiki", "oa_events", "oa_files", "user_limit"],
    themes: ["oa_theme"],
    availableThemes: ["oa_theme", "oa_radix", "bartik"],
    theme: "oa_theme",
    userLimit: 10,
    roles: ["authenticated user", "administrator", "manager"],
    activeUsers: 3,
    owner: { uid: 5, name: "jane", mail: "jane@acme.example.com", status: "active", roles: ["manager"] },
    welcome: { "5": { state: "sent", at: 1_790_000_000 } },
    ...overrides,
  };
}
