#!/usr/bin/env node
// Entry point of the `aegir-operator` binary.
import { main } from "./cli.ts";

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
