// `aegir-operator crds`: the CustomResourceDefinitions, ready for `kubectl apply -f -`.
import { allCrdsYaml } from "../../crds/generate.ts";
import { type Command, USAGE_ERROR } from "./command.ts";

export const crdsCommand: Command = {
  name: "crds",
  usage: "usage: aegir-operator crds   (e.g. aegir-operator crds | kubectl apply -f -)",
  run(argv, io) {
    if (argv.length > 0) {
      io.stderr.write(`crds: takes no arguments\n${this.usage}\n`);
      return Promise.resolve(USAGE_ERROR);
    }
    io.stdout.write(allCrdsYaml());
    return Promise.resolve(0);
  },
};
