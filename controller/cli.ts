// aegir-operator: one binary, one subcommand per job (see README "Commands"). These are the
// commands of the image; a checkout's entry (test/harness/bin.ts) adds the sandbox.
import { type Command, type CommandIO, USAGE_ERROR } from "./cli/command.ts";

export interface CommandEntry {
  name: string;
  summary: string;
  /** Loaded only when run: a command's dependencies (and their side effects at import, like
   * process signal handlers) stay out of every other command's process. */
  load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: "validate", summary: "validate HostedSite and AegirServer manifests", load: async () => (await import("./cli/validate.ts")).validateCommand },
  { name: "crds", summary: "print the CustomResourceDefinitions as multi-document YAML", load: async () => (await import("./cli/crds.ts")).crdsCommand },
  { name: "plan", summary: "print the drush operations a reconcile would run now, without running them", load: async () => (await import("./cli/plan.ts")).planCommand },
  { name: "check-server", summary: "check, read-only, that an Aegir server is fit to be connected", load: async () => (await import("./cli/check-server.ts")).checkServerCommand },
  { name: "controller", summary: "run the HostedSite and AegirServer controllers", load: async () => (await import("./cli/controller.ts")).controllerCommand },
  { name: "catalog", summary: "create or update the Stripe products and prices the service catalog names (catalog sync)", load: async () => (await import("./cli/catalog.ts")).catalogCommand },
  { name: "webhook", summary: "run the Stripe webhook, order inbox worker and HostedSite relay", load: async () => (await import("./cli/webhook.ts")).webhookCommand },
];

export function helpText(commands: readonly CommandEntry[] = COMMANDS): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `usage: aegir-operator <command> [options]

Sells and runs hosted Drupal sites on Aegir from HostedSite resources.

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Run 'aegir-operator <command> --help' for a command's options.
`;
}

export async function main(argv: readonly string[], io: CommandIO, commands: readonly CommandEntry[] = COMMANDS): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.stdout.write(helpText(commands));
    return name === undefined ? USAGE_ERROR : 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (entry === undefined) {
    io.stderr.write(`aegir-operator: unknown command ${JSON.stringify(name)}\n\n${helpText(commands)}`);
    return USAGE_ERROR;
  }
  const command = await entry.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(`${command.usage}\n`);
    return 0;
  }
  return command.run(rest, io);
}
