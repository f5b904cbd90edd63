// `aegir-operator plan -f SITE.yaml` (or SPACE.yaml): observe Aegir and print the operations a
// reconcile would run now, without running any.
import { readFile } from "node:fs/promises";
import { createLogger } from "../../common/logger.ts";
import { AegirServerSpec } from "../../crds/aegirserver.ts";
import { API_VERSION, type AegirServer, type HostedSite, type HostedSpace } from "../../crds/kinds.ts";
import { validateManifestText } from "../../crds/manifests.ts";
import { AegirError } from "../../reconcilers/aegir/errors.ts";
import { describeOperation } from "../../reconcilers/hostedsite/plan.ts";
import { previewSite } from "../../reconcilers/hostedsite/preview.ts";
import { DriverRegistry } from "../drivers.ts";
import { type Command, type CommandIO, USAGE_ERROR } from "./command.ts";
import { locateSharedSite, planHostedSpace } from "./plan-space.ts";

interface Options {
  files: string[];
  keyFile: string | undefined;
  now: Date;
  output: "text" | "json";
  server: Record<string, string>;
  platforms: string[];
}

const SERVER_FLAGS = ["host", "port", "user", "host-key", "drush", "hostmaster"];

function parse(argv: readonly string[], env: NodeJS.ProcessEnv): Options | string {
  const o: Options = { files: [], keyFile: env.AEGIR_SSH_KEY_FILE, now: new Date(), output: "text", server: {}, platforms: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    const v = (name: string) => {
      const x = value();
      if (x === undefined) throw new Error(`${name} needs a value`);
      return x;
    };
    try {
      if (flag === "-f" || flag === "--filename") o.files.push(v(flag));
      else if (flag === "--ssh-key-file") o.keyFile = v(flag);
      else if (flag === "--now") {
        o.now = new Date(v(flag));
        if (Number.isNaN(o.now.getTime())) return "--now must be an RFC 3339 time";
      } else if (flag === "-o" || flag === "--output") {
        const out = v(flag);
        if (out !== "text" && out !== "json") return "-o must be text or json";
        o.output = out;
      } else if (flag === "--platform") o.platforms.push(v(flag));
      else if (SERVER_FLAGS.includes(flag.slice(2))) o.server[flag.slice(2)] = v(flag);
      else return `unexpected argument ${JSON.stringify(arg)}`;
    } catch (error) {
      return (error as Error).message;
    }
  }
  if (o.files.length === 0) return "-f SITE.yaml (or SPACE.yaml) is required";
  return o;
}

/** An AegirServer from flags: --host, --host-key and at least one --platform NAME:PROFILE[:ROLE]. */
function serverFromFlags(o: Options): AegirServer | string {
  if (o.server.host === undefined) return "no AegirServer: pass its manifest with -f, or --host, --host-key and --platform";
  const platforms = o.platforms.map((p) => {
    const [name, profile, ownerRole] = p.split(":");
    return { name, profile, ...(ownerRole ? { ownerRole } : {}) };
  });
  const spec = AegirServerSpec.safeParse({
    host: o.server.host,
    ...(o.server.port ? { port: Number(o.server.port) } : {}),
    ...(o.server.user ? { user: o.server.user } : {}),
    hostKeySHA256: o.server["host-key"],
    privateKeySecretRef: { name: "unused", namespace: "unused" },
    ...(o.server.drush ? { drushPath: o.server.drush } : {}),
    ...(o.server.hostmaster ? { hostmasterAlias: o.server.hostmaster } : {}),
    capacity: { maxSites: 100_000 },
    platforms,
  });
  if (!spec.success) {
    const issue = spec.error.issues[0];
    return `server flags: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`;
  }
  return { apiVersion: API_VERSION, kind: "AegirServer", metadata: { name: o.server.host.replaceAll(/[^a-z0-9.-]/g, "-") }, spec: spec.data };
}

export const planCommand: Command = {
  name: "plan",
  usage: `usage: aegir-operator plan -f SITE.yaml [-f SERVER.yaml] [--ssh-key-file FILE] [--now TIME] [-o text|json]
       aegir-operator plan -f SITE.yaml --host HOST --host-key SHA256:... --platform NAME:PROFILE[:ROLE] [--port N] [--user U] [--drush PATH] [--hostmaster @ALIAS]
       aegir-operator plan -f SPACE.yaml [-f SHARED-SITE.yaml] [-f SERVER.yaml | --host ...] [--ssh-key-file FILE] [-o text|json]

Reads the site or space (and its AegirServer, and a space's shared HostedSite) from manifests,
reads the Aegir server over SSH and prints what a reconcile would change. Nothing is changed. The SSH key comes from --ssh-key-file or
AEGIR_SSH_KEY_FILE. Exit status: 0 printed, 1 could not read or resolve, 2 wrong usage.`,

  async run(argv, io) {
    const o = parse(argv, process.env);
    if (typeof o === "string") {
      io.stderr.write(`plan: ${o}\n${this.usage}\n`);
      return USAGE_ERROR;
    }
    const sites: HostedSite[] = [];
    const servers: AegirServer[] = [];
    const spaces: HostedSpace[] = [];
    for (const file of o.files) {
      const report = validateManifestText(await readFile(file, "utf8").catch(() => ""));
      for (const p of report.problems) io.stderr.write(`${file}: ${p.object}: ${p.path ? `${p.path}: ` : ""}${p.message}\n`);
      if (report.problems.length > 0) return 1;
      for (const v of report.valid) {
        const object = v.object as unknown as HostedSite & AegirServer & HostedSpace;
        (v.kind === "HostedSite" ? sites : v.kind === "HostedSpace" ? spaces : servers).push(object);
      }
    }
    // A space plans with its shared site's manifest beside it; a site plans alone.
    if (spaces.length > 1 || (spaces.length === 0 && sites.length !== 1) || sites.length > 1) {
      io.stderr.write(`plan: the manifests hold ${sites.length} HostedSites and ${spaces.length} HostedSpaces; give one site, or one space (with its shared HostedSite)\n`);
      return 1;
    }
    for (const object of [...sites, ...spaces]) object.metadata.namespace ??= "default";
    if (servers.length === 0) {
      const server = serverFromFlags(o);
      if (typeof server === "string") {
        io.stderr.write(`plan: ${server}\n`);
        return USAGE_ERROR;
      }
      servers.push(server);
    }
    const serverFromFlagsOnly = o.server.host !== undefined && servers.length === 1;
    // The controller's own driver registry: the same SSH pool options and command timeouts.
    const drivers = new DriverRegistry({
      servers: () => servers,
      readSecret: () => Promise.reject(new AegirError("AuthenticationFailed", "no SSH key: pass --ssh-key-file or set AEGIR_SSH_KEY_FILE")),
      ...(o.keyFile ? { keyFile: o.keyFile } : {}),
      log: createLogger({ name: "plan", level: "silent" }),
    });
    const driver = (name: string) => drivers.driver(name);
    try {
      const space = spaces[0];
      if (space !== undefined) {
        const located = locateSharedSite(space, sites, servers);
        if (typeof located === "string") {
          io.stderr.write(`plan: ${located}\n`);
          return 1;
        }
        // A server given by flags is the one the space names.
        if (serverFromFlagsOnly && located.spec.site.server !== undefined) (servers[0] as AegirServer).metadata.name = located.spec.site.server;
        return await planHostedSpace(located, { sites, driver, now: o.now }, io, o.output);
      }
      const site = sites[0] as HostedSite;
      const preview = await previewSite(site, { servers, sites: [site], status: (name) => driver(name).serverStatus(), driver, now: o.now });
      print(io, site, preview, o.output);
      return "error" in preview ? 1 : 0;
    } catch (error) {
      io.stderr.write(`plan: ${error instanceof AegirError ? `${error.reason}: ${error.message}` : String(error)}\n`);
      return 1;
    } finally {
      await drivers.close(1_000);
    }
  },
};

function print(io: CommandIO, site: HostedSite, preview: Awaited<ReturnType<typeof previewSite>>, output: "text" | "json"): void {
  const name = `${site.metadata.namespace}/${site.metadata.name}`;
  if (output === "json") {
    io.stdout.write(`${JSON.stringify("error" in preview ? { site: name, ...preview } : { site: name, server: preview.server, placed: preview.placed, wait: preview.plan.wait, released: preview.plan.released, operations: preview.plan.operations }, null, 2)}\n`);
    return;
  }
  if ("error" in preview) {
    io.stdout.write(`HostedSite ${name}: cannot plan: ${preview.error}: ${preview.message}\n`);
    return;
  }
  const { plan, observed, desired } = preview;
  const siteLine = observed.site ? `${observed.site.status} on ${observed.site.platform}` : "not in Aegir yet";
  io.stdout.write(`HostedSite ${name} (${desired.uri})\n  server:   ${preview.server}${preview.placed ? " (would be placed there by capacity)" : ""}\n  platform: ${desired.platform}\n  site:     ${siteLine}\n`);
  if (plan.wait) io.stdout.write(`  waiting:  ${plan.wait.message}\n`);
  if (plan.operations.length === 0) {
    io.stdout.write(plan.wait ? "No operations until Aegir finishes.\n" : "Nothing to do: the site matches its spec.\n");
    return;
  }
  io.stdout.write(`Would run ${plan.operations.length} operation(s):\n`);
  plan.operations.forEach((op, i) => io.stdout.write(`  ${String(i + 1).padStart(2)}. ${describeOperation(op)}  [${op.aspect}]\n`));
}
