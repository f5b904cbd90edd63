// Invalid manifests, each with the field path its rejection must name. Most are one mutation
// of a valid HostedSite or AegirServer; a few are raw text (YAML-level problems).
import * as yaml from "js-yaml";

export type Manifest = Record<string, unknown> & { spec: Record<string, unknown>; metadata: Record<string, unknown> };

export interface InvalidCase {
  name: string;
  /** The problem report must name this path (empty: a whole-document or file problem). */
  field: string;
  /** Raw file text, or a mutation of the valid base manifest. */
  text?: string;
  mutate?: (m: Manifest) => void;
  base?: "site" | "server";
  /** Documents in the file that are valid besides the broken one. */
  validDocuments?: number;
  /** Only the CLI can see it (metadata, YAML, CEL-only rules); the CRD schema is not asked. */
  cliOnly?: boolean;
}

export const validSite = (): Manifest => ({
  apiVersion: "hosting.openatria.com/v1alpha1",
  kind: "HostedSite",
  metadata: { name: "acme", namespace: "customers" },
  spec: {
    domain: "acme.sites.openatria.com",
    profile: "openatrium",
    features: ["oa_wiki", "oa_discussion"],
    theme: "oa_theme",
    userQuota: 10,
    support: { tier: "Basic", hours: "8x5", channels: ["forum"] },
    owner: { email: "jane@acme.example.com", name: "jane" },
  },
});

export const validServer = (): Manifest => ({
  apiVersion: "hosting.openatria.com/v1alpha1",
  kind: "AegirServer",
  metadata: { name: "aegir-1" },
  spec: {
    host: "aegir1.example.net",
    hostKeySHA256: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
    privateKeySecretRef: { name: "aegir-1-ssh", namespace: "aegir-operator" },
    capacity: { maxSites: 10 },
    platforms: [{ name: "platform_openatrium2652", profile: "openatrium" }],
  },
});

const spec = (field: string, value: unknown) => (m: Manifest) => {
  m.spec[field] = value;
};
const owner = (field: string, value: unknown) => (m: Manifest) => {
  (m.spec.owner as Record<string, unknown>)[field] = value;
};
const support = (field: string, value: unknown) => (m: Manifest) => {
  (m.spec.support as Record<string, unknown>)[field] = value;
};
const remove = (field: string) => (m: Manifest) => {
  delete m.spec[field];
};

const hostileStrings: Array<[string, string]> = [
  ["semicolon", "acme.example.com;rm -rf /"],
  ["command substitution", "$(touch /tmp/pwned).example.com"],
  ["backticks", "`id`.example.com"],
  ["single quote", "acme'.example.com"],
  ["double quote", 'acme".example.com'],
  ["newline", "acme.example.com\nevil.example.com"],
  ["NUL byte", "acme.example.com\u0000"],
  ["space", "acme example.com"],
  ["pipe", "acme.example.com|sh"],
  ["leading dash", "-acme.example.com"],
  ["uppercase", "Acme.Example.com"],
  ["Cyrillic look-alike a", "\u0430cme.example.com"],
  ["fullwidth letters", "\uff41cme.example.com"],
  ["wildcard", "*.example.com"],
  ["trailing dot", "acme.example.com."],
  ["single label", "localhost"],
  ["IP address", "192.168.10.1"],
  ["label over 63", `${"a".repeat(64)}.example.com`],
  ["over 253 characters", `${Array.from({ length: 9 }, () => "a".repeat(30)).join(".")}.example.com`],
  ["empty label", "acme..example.com"],
  ["underscore", "ac_me.example.com"],
];

const hostileMachineNames: Array<[string, string]> = [
  ["semicolon", "oa_wiki;id"],
  ["command substitution", "$(id)"],
  ["backticks", "`id`"],
  ["quote", "oa_wiki'"],
  ["newline", "oa_wiki\noa_events"],
  ["uppercase", "OA_Wiki"],
  ["leading digit", "1oa_wiki"],
  ["leading dash (option injection)", "--uri=evil"],
  ["Cyrillic look-alike o", "\u043ea_wiki"],
  ["over 64 characters", `a${"b".repeat(64)}`],
  ["dot path", "../../etc"],
];

export const INVALID_CASES: InvalidCase[] = [
  ...hostileStrings.map(([what, value]): InvalidCase => ({ name: `domain with ${what}`, field: "spec.domain", mutate: spec("domain", value) })),
  { name: "alias with shell metacharacters", field: "spec.aliases[0]", mutate: spec("aliases", ["www.acme.example.com && reboot"]) },
  { name: "alias uppercase", field: "spec.aliases[0]", mutate: spec("aliases", ["WWW.acme.example.com"]) },
  { name: "duplicate aliases", field: "spec.aliases[1]", mutate: spec("aliases", ["www.acme.example.com", "www.acme.example.com"]) },
  { name: "alias repeats the domain", field: "spec.aliases[0]", mutate: spec("aliases", ["acme.sites.openatria.com"]), cliOnly: true },
  { name: "too many aliases", field: "spec.aliases", mutate: spec("aliases", Array.from({ length: 17 }, (_, i) => `a${i}.example.com`)) },
  ...hostileMachineNames.map(([what, value]): InvalidCase => ({ name: `feature with ${what}`, field: "spec.features[1]", mutate: spec("features", ["oa_events", value]) })),
  { name: "profile uppercase", field: "spec.profile", mutate: spec("profile", "OpenAtrium") },
  { name: "profile with space", field: "spec.profile", mutate: spec("profile", "open atrium") },
  { name: "theme with shell metacharacters", field: "spec.theme", mutate: spec("theme", "oa_theme;reboot") },
  { name: "platform with @", field: "spec.platform", mutate: spec("platform", "@platform_oa") },
  { name: "duplicate features", field: "spec.features[2]", mutate: spec("features", ["oa_wiki", "oa_events", "oa_wiki"]) },
  { name: "too many features", field: "spec.features", mutate: spec("features", Array.from({ length: 65 }, (_, i) => `oa_f${i}`)) },
  { name: "features not a list", field: "spec.features", mutate: spec("features", "oa_wiki") },
  { name: "negative quota", field: "spec.userQuota", mutate: spec("userQuota", -5) },
  { name: "zero quota", field: "spec.userQuota", mutate: spec("userQuota", 0) },
  { name: "huge quota", field: "spec.userQuota", mutate: spec("userQuota", 10_000_000_000) },
  { name: "fractional quota", field: "spec.userQuota", mutate: spec("userQuota", 2.5) },
  { name: "quota as a string", field: "spec.userQuota", mutate: spec("userQuota", "10") },
  { name: "missing quota", field: "spec.userQuota", mutate: remove("userQuota") },
  { name: "unknown support tier", field: "spec.support.tier", mutate: support("tier", "Platinum") },
  { name: "lowercase support tier", field: "spec.support.tier", mutate: support("tier", "premium") },
  { name: "support hours 24/7 with a slash", field: "spec.support.hours", mutate: support("hours", "24/7") },
  { name: "unknown support channel", field: "spec.support.channels[0]", mutate: support("channels", ["pager"]) },
  { name: "duplicate support channels", field: "spec.support.channels[1]", mutate: support("channels", ["email", "email"]) },
  { name: "no support channels", field: "spec.support.channels", mutate: support("channels", []) },
  { name: "missing support", field: "spec.support", mutate: remove("support") },
  { name: "missing owner email", field: "spec.owner.email", mutate: (m) => void delete (m.spec.owner as Record<string, unknown>).email },
  { name: "owner email without @", field: "spec.owner.email", mutate: owner("email", "jane.example.com") },
  { name: "owner email with shell metacharacters", field: "spec.owner.email", mutate: owner("email", "jane$(id)@example.com") },
  { name: "owner email with newline", field: "spec.owner.email", mutate: owner("email", "jane@example.com\nBcc: all@example.com") },
  { name: "owner name admin (uid 1)", field: "spec.owner.name", mutate: owner("name", "admin"), cliOnly: true },
  { name: "owner name with quote", field: "spec.owner.name", mutate: owner("name", "jane'; DROP TABLE users;--") },
  { name: "owner role with backticks", field: "spec.owner.role", mutate: owner("role", "`id`") },
  { name: "owner display name with control character", field: "spec.owner.displayName", mutate: owner("displayName", "Jane\u001b[31m") },
  { name: "owner unknown field", field: "spec.owner.password", mutate: owner("password", "hunter2") },
  { name: "https lowercase", field: "spec.https", mutate: spec("https", "required") },
  { name: "https as boolean", field: "spec.https", mutate: spec("https", true) },
  { name: "deletion policy unknown", field: "spec.deletionPolicy", mutate: spec("deletionPolicy", "Orphan") },
  { name: "suspended as string", field: "spec.suspended", mutate: spec("suspended", "yes") },
  { name: "expiry date only", field: "spec.expiresAt", mutate: spec("expiresAt", "2027-01-31") },
  { name: "expiry without time zone", field: "spec.expiresAt", mutate: spec("expiresAt", "2027-01-31T00:00:00") },
  { name: "expiry in US format", field: "spec.expiresAt", mutate: spec("expiresAt", "01/31/2027") },
  { name: "expiry on 30 February", field: "spec.expiresAt", mutate: spec("expiresAt", "2027-02-30T00:00:00Z") },
  { name: "expiry as a number", field: "spec.expiresAt", mutate: spec("expiresAt", 1801353600) },
  { name: "server name uppercase", field: "spec.server", mutate: spec("server", "Aegir-1") },
  { name: "order from stripe without subscription", field: "spec.order.subscription", mutate: spec("order", { source: "stripe", customer: "cus_1" }), cliOnly: true },
  { name: "order with bad subscription id", field: "spec.order.subscription", mutate: spec("order", { source: "stripe", subscription: "sub_1;id", customer: "cus_1" }) },
  { name: "unknown spec field", field: "spec.replicas", mutate: spec("replicas", 3) },
  { name: "misspelled spec field", field: "spec.userquota", mutate: spec("userquota", 10) },
  { name: "unknown top-level field", field: "extra", mutate: (m) => void (m.extra = true) },
  { name: "spec missing", field: "spec", mutate: (m) => void delete (m as Record<string, unknown>).spec, cliOnly: true },
  { name: "spec empty", field: "spec", text: "apiVersion: hosting.openatria.com/v1alpha1\nkind: HostedSite\nmetadata: {name: x}\nspec:\n", cliOnly: true },
  { name: "wrong apiVersion", field: "apiVersion", mutate: (m) => void (m.apiVersion = "hosting.openatria.com/v1"), cliOnly: true },
  { name: "missing apiVersion", field: "apiVersion", mutate: (m) => void delete (m as Record<string, unknown>).apiVersion, cliOnly: true },
  { name: "wrong kind", field: "kind", mutate: (m) => void (m.kind = "Hostedsite"), cliOnly: true },
  { name: "core kind", field: "kind", mutate: (m) => void (m.kind = "Deployment"), cliOnly: true },
  { name: "name uppercase", field: "metadata.name", mutate: (m) => void (m.metadata.name = "Acme"), cliOnly: true },
  { name: "name missing", field: "metadata.name", mutate: (m) => void delete m.metadata.name, cliOnly: true },
  { name: "namespace with underscore", field: "metadata.namespace", mutate: (m) => void (m.metadata.namespace = "my_ns"), cliOnly: true },
  { name: "unknown metadata field", field: "metadata.nmae", mutate: (m) => void (m.metadata.nmae = "x"), cliOnly: true },
  { name: "status with a bad condition status", field: "status.conditions[0].status", mutate: (m) => void (m.status = { conditions: [{ type: "Ready", status: "Yes", reason: "Ok", message: "", lastTransitionTime: "2026-01-01T00:00:00Z" }] }) },
  // AegirServer
  { name: "server user root", base: "server", field: "spec.user", mutate: spec("user", "root"), cliOnly: true },
  { name: "server host with shell metacharacters", base: "server", field: "spec.host", mutate: spec("host", "aegir1.example.net;id") },
  { name: "server host key not pinned", base: "server", field: "spec.hostKeySHA256", mutate: remove("hostKeySHA256") },
  { name: "server host key in MD5 format", base: "server", field: "spec.hostKeySHA256", mutate: spec("hostKeySHA256", "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48") },
  { name: "server port out of range", base: "server", field: "spec.port", mutate: spec("port", 70000) },
  { name: "server namespace set on a cluster-scoped kind", base: "server", field: "metadata.namespace", mutate: (m) => void (m.metadata.namespace = "default"), cliOnly: true },
  { name: "server without platforms", base: "server", field: "spec.platforms", mutate: spec("platforms", []) },
  { name: "server duplicate platform", base: "server", field: "spec.platforms[1]", mutate: spec("platforms", [{ name: "p1", profile: "openatrium" }, { name: "p1", profile: "standard" }]) },
  { name: "server hostmaster alias without @", base: "server", field: "spec.hostmasterAlias", mutate: spec("hostmasterAlias", "hostmaster") },
  { name: "server drush path with spaces", base: "server", field: "spec.drushPath", mutate: spec("drushPath", "/usr/bin/drush; id") },
  { name: "server concurrency zero", base: "server", field: "spec.capacity.maxConcurrentOperations", mutate: spec("capacity", { maxSites: 1, maxConcurrentOperations: 0 }) },
  // Raw text: problems a parser or the shape of the file shows.
  { name: "empty file", field: "", text: "" },
  { name: "only empty documents", field: "", text: "---\n---\n" },
  { name: "empty document between two", field: "", text: `${yaml.dump(validSite())}---\n---\n${yaml.dump(validServer())}`, validDocuments: 2 },
  { name: "YAML syntax error", field: "", text: "apiVersion: hosting.openatria.com/v1alpha1\nkind: HostedSite\nspec: [\n  domain: x\n" },
  { name: "duplicate YAML key", field: "", text: "apiVersion: hosting.openatria.com/v1alpha1\nkind: HostedSite\nkind: HostedSite\n" },
  { name: "document is a list", field: "", text: "- a\n- b\n" },
  { name: "document is a scalar", field: "", text: "hello\n" },
];

/** A 10 MB document: a feature list far past every limit. */
export function tenMegabyteManifest(): string {
  const m = validSite();
  m.spec.features = Array.from({ length: 600_000 }, (_, i) => `feature_${i}`);
  return yaml.dump(m, { flowLevel: 3 });
}

export function caseText(c: InvalidCase): string {
  if (c.text !== undefined) return c.text;
  const m = c.base === "server" ? validServer() : validSite();
  c.mutate?.(m);
  return yaml.dump(m);
}

export function caseObject(c: InvalidCase): Manifest {
  const m = c.base === "server" ? validServer() : validSite();
  c.mutate?.(m);
  return m;
}
