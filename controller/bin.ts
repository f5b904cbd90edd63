#!/usr/bin/env node
// Entry point of the `aegir-operator` binary in the image: the product commands.
import { COMMANDS } from "./cli.ts";
import { runBinary } from "./entry.ts";

await runBinary(COMMANDS);
