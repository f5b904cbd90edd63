// The commands of a checkout: the product's, plus `sandbox`, which runs this harness and so
// cannot run in the image (it ships without test/).
import { COMMANDS, type CommandEntry } from "../../controller/cli.ts";

export const DEV_COMMANDS: readonly CommandEntry[] = [
  ...COMMANDS,
  { name: "sandbox", summary: "run the whole stack on 127.0.0.1 with embedded defaults (what npm start runs)", load: async () => (await import("./sandbox-command.ts")).sandboxCommand },
];
