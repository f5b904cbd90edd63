// `npm run crds`: regenerate the committed CRD files from the zod schemas.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { crdFileName, crdYaml } from "./generate.ts";
import { KINDS } from "./kinds.ts";

for (const def of KINDS) {
  const file = join(import.meta.dirname, crdFileName(def));
  writeFileSync(file, crdYaml(def));
  console.log(`wrote ${file}`);
}
