// `aegir-operator check-server -f aegirserver.yaml`: the read-only conformance check a seller
// runs against an Aegir server before connecting it. Prints one row per check with the remedy
// for each failure; exit 0 when nothing failed, 1 otherwise, 2 for wrong usage.
import { readFile } from "node:fs/promises";
import type { AegirServer } from "../../crds/kinds.ts";
import { validateManifestText } from "../../crds/manifests.ts";
import { email } from "../../crds/primitives.ts";
import { type CheckRow, evaluate } from "../../reconcilers/aegir/conformance/checks.ts";
import { sellableByProfile } from "../../webhook/catalog-sellable.ts";
import { probeServer } from "../../reconcilers/aegir/conformance/probe.ts";
import { SshPool } from "../../reconcilers/aegir/ssh/pool.ts";
import { CatalogError, loadCatalog } from "../../webhook/catalog.ts";
import { type Command, type CommandIO, USAGE_ERROR } from "./command.ts";

interface Options {
  file: string;
  keyFile: string;
  catalog: string | undefined;
  testMailTo: string | undefined;
  output: "text" | "json";
}

const USAGE = `usage: aegir-operator check-server -f AEGIRSERVER.yaml [--ssh-key-file FILE] [--catalog FILE] [--send-test-mail ADDRESS] [-o text|json]

Checks, without changing anything, that an Aegir server is fit for the operator: SSH with the
pinned host key and not as root, drush 8, the hostmaster alias bootstraps, php-eval reads
standard input, hosting_alias and hosting_https are enabled, the task queue runs and no task is
stuck, each platform exists, is enabled and carries its profile, the quota module and every
feature and theme the catalog sells (with their dependencies), the owner role exists in the
profile, and (with --send-test-mail) that mail can be sent. The SSH key comes from
--ssh-key-file or AEGIR_SSH_KEY_FILE; the catalog is the built-in one unless --catalog names
another. Exit status: 0 every check passed (warnings allowed), 1 a check failed, 2 wrong usage.`;

function parse(argv: readonly string[], env: NodeJS.ProcessEnv): Options | string {
  let file: string | undefined;
  let keyFile = env.AEGIR_SSH_KEY_FILE;
  let catalog: string | undefined;
  let testMailTo: string | undefined;
  let output: Options["output"] = "text";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = inline ?? argv[i + 1];
    if (!["-f", "--filename", "--ssh-key-file", "--catalog", "--send-test-mail", "-o", "--output"].includes(flag)) return `unexpected argument ${JSON.stringify(arg)}`;
    if (value === undefined) return `${flag} needs a value`;
    if (inline === undefined) i++;
    if (flag === "-f" || flag === "--filename") {
      if (file !== undefined) return "give one AegirServer manifest (-f) per check";
      file = value;
    } else if (flag === "--ssh-key-file") keyFile = value;
    else if (flag === "--catalog") catalog = value;
    else if (flag === "--send-test-mail") {
      if (!email().safeParse(value).success) return "--send-test-mail needs an e-mail address";
      testMailTo = value;
    } else {
      if (value !== "text" && value !== "json") return "-o must be text or json";
      output = value;
    }
  }
  if (file === undefined) return "-f AEGIRSERVER.yaml is required";
  if (keyFile === undefined) return "no SSH key: pass --ssh-key-file or set AEGIR_SSH_KEY_FILE";
  return { file, keyFile, catalog, testMailTo, output };
}

export interface CheckServerDeps {
  /** Log in as this user instead of spec.user (a test sshd only admits whoever runs it). */
  loginAs?: string;
}

export function makeCheckServerCommand(deps: CheckServerDeps = {}): Command {
  return {
    name: "check-server",
    usage: USAGE,
    async run(argv, io) {
      const o = parse(argv, process.env);
      if (typeof o === "string") {
        io.stderr.write(`check-server: ${o}\n${USAGE}\n`);
        return USAGE_ERROR;
      }
      const report = validateManifestText(await readFile(o.file, "utf8").catch(() => ""));
      for (const p of report.problems) io.stderr.write(`${o.file}: ${p.object}: ${p.path ? `${p.path}: ` : ""}${p.message}\n`);
      const servers = report.valid.filter((v) => v.kind === "AegirServer").map((v) => v.object as unknown as AegirServer);
      if (report.problems.length > 0) return 1;
      if (servers.length !== 1) {
        io.stderr.write(`check-server: ${o.file} holds ${servers.length} AegirServers; give exactly one\n`);
        return 1;
      }
      const server = servers[0] as AegirServer;
      let catalog;
      try {
        catalog = await loadCatalog(o.catalog);
      } catch (error) {
        if (!(error instanceof CatalogError)) throw error;
        io.stderr.write(`check-server: ${error.message}\n`);
        return 1;
      }
      const s = server.spec;
      const pool = new SshPool({ host: s.host, port: s.port, username: deps.loginAs ?? s.user, hostKeySHA256: s.hostKeySHA256, privateKey: { file: o.keyFile }, maxConnections: 1 });
      try {
        const observation = await probeServer(pool, s, { timeoutMs: s.commandTimeouts.readSeconds * 1000, ...(o.testMailTo === undefined ? {} : { testMailTo: o.testMailTo }) });
        const rows = evaluate(s, sellableByProfile(catalog), observation);
        print(io, server.metadata.name, rows, o.output);
        return rows.some((r) => r.status === "fail") ? 1 : 0;
      } finally {
        await pool.close(1_000);
      }
    },
  };
}

export const checkServerCommand = makeCheckServerCommand();

const MARK: Record<CheckRow["status"], string> = { pass: "PASS", fail: "FAIL", warn: "WARN", skip: "SKIP" };

function print(io: CommandIO, name: string, rows: readonly CheckRow[], output: Options["output"]): void {
  const failed = rows.filter((r) => r.status === "fail").length;
  if (output === "json") {
    io.stdout.write(`${JSON.stringify({ server: name, ok: failed === 0, checks: rows }, null, 2)}\n`);
    return;
  }
  io.stdout.write(`AegirServer ${name}\n`);
  for (const r of rows) {
    io.stdout.write(`  ${MARK[r.status]}  ${r.check}: ${r.detail}\n`);
    if (r.remedy !== undefined) io.stdout.write(`        remedy: ${r.remedy}\n`);
  }
  io.stdout.write(failed === 0 ? "The server passes every check.\n" : `${failed} check(s) failed.\n`);
}
