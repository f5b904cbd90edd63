// aegir-operator: one binary, one subcommand per job (see README "Commands").
import { type Command, type CommandIO, USAGE_ERROR } from "./cli/command.ts";
import { crdsCommand } from "./cli/crds.ts";
import { validateCommand } from "./cli/validate.ts";

export const COMMANDS: readonly Command[] = [validateCommand, crdsCommand];

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `usage: aegir-operator <command> [options]

Sells and runs hosted Drupal sites on Aegir from HostedSite resources.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Run 'aegir-operator <command> --help' for a command's options.
`;
}

export async function main(argv: readonly string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.stdout.write(helpText());
    return name === undefined ? USAGE_ERROR : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr.write(`aegir-operator: unknown command ${JSON.stringify(name)}\n\n${helpText()}`);
    return USAGE_ERROR;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(`${command.usage}\n`);
    return 0;
  }
  return command.run(rest, io);
}
