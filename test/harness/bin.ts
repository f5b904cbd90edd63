#!/usr/bin/env node
// Entry point of `aegir-operator` in a checkout (package.json "bin", `npm start`): every product
// command and the sandbox.
import { runBinary } from "../../controller/entry.ts";
import { DEV_COMMANDS } from "./dev-commands.ts";

await runBinary(DEV_COMMANDS);
