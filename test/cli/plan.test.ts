// `aegir-operator plan` end to end: the real binary reading a site and its AegirServer from
// manifests, over a real SSH connection to the simulated Aegir, changing nothing.
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import * as yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../controller/cli.ts";
import { AegirSimulator, openAtriumPlatform } from "../harness/aegir/index.ts";
import { generateKeyPair } from "../harness/ssh/keys.ts";
import { startTestSshServer, type TestSshServer } from "../harness/ssh/server.ts";
import { captureIO } from "../helpers/io.ts";
import { tempDir } from "../helpers/tmp.ts";

const root = join(import.meta.dirname, "../..");
const site = (spec: Record<string, unknown> = {}) => ({
  apiVersion: "hosting.openatria.com/v1alpha1",
  kind: "HostedSite",
  metadata: { name: "acme", namespace: "customers" },
  spec: { domain: "acme.sites.example.com", profile: "openatrium", features: ["oa_wiki", "oa_markdown"], userQuota: 10, support: { tier: "Basic" }, owner: { email: "jane@acme.example.com" }, ...spec },
});

describe("aegir-operator plan", () => {
  const dir = tempDir();
  const client = generateKeyPair();
  const sim = new AegirSimulator({ platforms: [openAtriumPlatform({ extraRoles: ["manager"] })], sites: [{ uri: "installed.example.com", modules: ["user_limit"] }], autoRunTasks: false });
  let ssh: TestSshServer;
  const files = { key: join(dir, "id_ed25519"), server: join(dir, "server.yaml"), site: join(dir, "site.yaml"), installed: join(dir, "installed.yaml") };

  beforeAll(async () => {
    ssh = await startTestSshServer({ handler: sim.execHandler(), authorizedKey: client.publicKey });
    writeFileSync(files.key, client.privateKey, { mode: 0o600 });
    writeFileSync(
      files.server,
      yaml.dump({
        apiVersion: "hosting.openatria.com/v1alpha1",
        kind: "AegirServer",
        metadata: { name: "aegir-1" },
        spec: { host: "127.0.0.1", port: ssh.port, hostKeySHA256: ssh.fingerprint, privateKeySecretRef: { name: "k", namespace: "ns" }, capacity: { maxSites: 10 }, platforms: [{ name: "platform_openatrium2652", profile: "openatrium" }] },
      }),
    );
    writeFileSync(files.site, yaml.dump(site()));
    writeFileSync(files.installed, yaml.dump(site({ domain: "installed.example.com", features: ["oa_wiki", "oa_markdown"], theme: "oa_radix", userQuota: 30 })));
  });
  afterAll(async () => {
    await ssh.close();
    sim.close();
  });

  const run = async (args: string[]) => {
    const io = captureIO();
    const code = await main(["plan", ...args], io);
    return { code, out: io.out(), err: io.err() };
  };

  it("plans the creation of a new site, placing it by capacity, and changes nothing", async () => {
    const before = sim.stats.counts();
    const r = await run(["-f", files.site, "-f", files.server, "--ssh-key-file", files.key]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("server:   aegir-1 (would be placed there by capacity)");
    expect(r.out).toContain("site:     not in Aegir yet");
    expect(r.out).toContain("1. create the site in the hostmaster (queues its install)  [site]");
    expect(sim.stats.counts().writes).toBe(before.writes);
    expect(sim.site("acme.sites.example.com")).toBeUndefined();
  });

  it("lists every change an installed site still needs, as JSON too", async () => {
    const r = await run(["-f", files.installed, "-f", files.server, "--ssh-key-file", files.key]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/enable oa_markdown\s+\[features\]/);
    expect(r.out).toMatch(/make oa_radix the default theme\s+\[theme\]/);
    expect(r.out).toMatch(/set the user limit to 30 and enforce it: .*\s+\[quota\]/);
    expect(r.out).toMatch(/create the owner account jane <jane@acme.example.com>\s+\[owner\]/);
    const json = await run(["-f", files.installed, "-f", files.server, "--ssh-key-file", files.key, "-o", "json"]);
    const parsed = JSON.parse(json.out) as { operations: Array<{ kind: string }> };
    expect(parsed.operations.map((o) => o.kind)).toEqual(["EnableModules", "SetTheme", "EnforceUserQuota", "CreateOwner", "AddOwnerRole", "SendWelcome"]);
    expect(sim.stats.counts().writes).toBe(0);
  });

  it("takes the server from flags", async () => {
    const r = await run(["-f", files.site, "--host", "127.0.0.1", "--port", String(ssh.port), "--host-key", ssh.fingerprint, "--platform", "platform_openatrium2652:openatrium", "--ssh-key-file", files.key]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("create the site in the hostmaster");
  });

  it("refuses a server whose host key does not match the pin", async () => {
    const other = generateKeyPair().fingerprint;
    const r = await run(["-f", files.site, "--host", "127.0.0.1", "--port", String(ssh.port), "--host-key", other, "--platform", "platform_openatrium2652:openatrium", "--ssh-key-file", files.key]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("cannot plan: NoCapacity");
    expect(r.out).toContain("HostKeyMismatch");
  });

  it("reports invalid manifests and wrong usage", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, yaml.dump(site({ userQuota: 0 })));
    const r = await run(["-f", bad, "-f", files.server]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("HostedSite/acme: spec.userQuota: must be at least 1");
    expect((await run([])).code).toBe(2);
  });

  describe("a HostedSpace", () => {
    const space = (site: Record<string, unknown>) => ({
      apiVersion: "hosting.openatria.com/v1alpha1",
      kind: "HostedSpace",
      metadata: { name: "team", namespace: "customers" },
      spec: { site, title: "Team", machineName: "team", memberQuota: 5, owner: { email: "ada@team.example.com" }, support: { tier: "Basic" } },
    });
    const spaceFiles = { byUri: join(dir, "space-uri.yaml"), bySite: join(dir, "space-site.yaml") };
    beforeAll(() => {
      writeFileSync(spaceFiles.byUri, yaml.dump(space({ uri: "installed.example.com", server: "aegir-1" })));
      writeFileSync(spaceFiles.bySite, yaml.dump(space({ hostedSite: "acme" })));
    });

    it("plans a new space in a shared site named by URI, and changes nothing", async () => {
      const r = await run(["-f", spaceFiles.byUri, "-f", files.server, "--ssh-key-file", files.key]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(r.out).toContain("HostedSpace customers/team (team on installed.example.com)");
      expect(r.out).toContain("space:    not on the site yet");
      expect(r.out).toMatch(/1\. install the member-quota module .+\[quota\]/);
      expect(r.out).toMatch(/2\. create the space "Team" \(private, blueprint Default, quota 5\)\s+\[space\]/);
      expect(r.out).toMatch(/3\. make ada\.team\.example\.com <ada@team\.example\.com> the space's administrator .+\[owner\]/);
      expect(r.out).toMatch(/4\. send <ada@team\.example\.com> the space's welcome mail .+\[owner\]/);
      expect(sim.stats.counts().writes).toBe(0);
    });

    it("finds the shared site through its HostedSite manifest, and takes the server from flags", async () => {
      const json = await run(["-f", spaceFiles.bySite, "-f", files.installed, "-f", files.server, "--ssh-key-file", files.key, "-o", "json"]);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.out)).toMatchObject({ space: "customers/team", server: "aegir-1", site: "installed.example.com" });
      const flags = await run(["-f", spaceFiles.byUri, "--host", "127.0.0.1", "--port", String(ssh.port), "--host-key", ssh.fingerprint, "--platform", "platform_openatrium2652:openatrium", "--ssh-key-file", files.key]);
      expect(flags.code).toBe(0);
      expect(flags.out).toContain("Would run 4 operation(s):");
    });

    it("says which manifest is missing", async () => {
      const r = await run(["-f", spaceFiles.bySite, "-f", files.server, "--ssh-key-file", files.key]);
      expect(r.code).toBe(1);
      expect(r.err).toBe("plan: the space lives in HostedSite acme: give its manifest with -f too\n");
    });
  });

  it("works as the installed binary", async () => {
    const { stdout } = await promisify(execFile)("npx", ["--no-install", "aegir-operator", "plan", "-f", files.site, "-f", files.server], { cwd: root, env: { ...process.env, AEGIR_SSH_KEY_FILE: files.key } });
    expect(stdout).toContain("Would run 1 operation(s):");
  });
});
