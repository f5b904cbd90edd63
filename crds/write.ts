// `npm run crds`: regenerate the committed CRD files from the zod schemas, here and in the Helm
// chart's crds/ (Helm installs that directory as it is, so it holds identical copies).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { crdFileName, crdYaml } from "./generate.ts";
import { KINDS } from "./kinds.ts";

const CRD_DIRS = [import.meta.dirname, join(import.meta.dirname, "../charts/aegir-operator/crds")];

for (const dir of CRD_DIRS) {
  for (const def of KINDS) {
    const file = join(dir, crdFileName(def));
    writeFileSync(file, crdYaml(def));
    console.log(`wrote ${file}`);
  }
}
