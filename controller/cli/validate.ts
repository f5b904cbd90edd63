// `aegir-operator validate -f FILE|DIR ...`: check manifests the way the API server would.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { validateManifestText } from "../../crds/manifests.ts";
import { type Command, type CommandIO, USAGE_ERROR } from "./command.ts";

const MANIFEST_EXTENSIONS = [".yaml", ".yml", ".json"];
/** Bigger than any sane manifest file; stops a mistaken `-f /` from reading a disk image. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

interface Options {
  files: string[];
  recursive: boolean;
}

function parse(argv: readonly string[]): Options | string {
  const options: Options = { files: [], recursive: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "-f" || arg === "--filename") {
      const value = argv[++i];
      if (value === undefined) return `${arg} needs a file or directory`;
      options.files.push(value);
    } else if (arg.startsWith("--filename=")) options.files.push(arg.slice("--filename=".length));
    else if (arg === "-R" || arg === "--recursive") options.recursive = true;
    else return `unexpected argument ${JSON.stringify(arg)}`;
  }
  if (options.files.length === 0) return "at least one -f FILE|DIR is required";
  return options;
}

/** Manifest files named by one -f argument: the file itself, or a directory's manifest files. */
async function expand(path: string, recursive: boolean): Promise<string[]> {
  if (path === "-") return ["-"];
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const out: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) {
      if (recursive) out.push(...(await expand(full, recursive)));
    } else if (MANIFEST_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) out.push(full);
  }
  return out;
}

async function readManifest(file: string, io: CommandIO): Promise<string> {
  if (file === "-") return text(io.stdin);
  const info = await stat(file);
  if (info.size > MAX_FILE_BYTES) throw new Error(`is ${info.size} bytes; at most ${MAX_FILE_BYTES} are read`);
  return readFile(file, "utf8");
}

export const validateCommand: Command = {
  name: "validate",
  usage: `usage: aegir-operator validate -f FILE|DIR|- [-f ...] [-R]

Checks every document of every file against the HostedSite and AegirServer schemas.
Prints one line per problem:  FILE: Kind/name: field.path: message
Exit status: 0 all valid, 1 something invalid, 2 wrong usage.
  -f, --filename   a manifest file, a directory of .yaml/.yml/.json files, or - for stdin
  -R, --recursive  descend into subdirectories of directories given with -f`,

  async run(argv, io) {
    const options = parse(argv);
    if (typeof options === "string") {
      io.stderr.write(`validate: ${options}\n${this.usage}\n`);
      return USAGE_ERROR;
    }
    let invalid = false;
    let objects = 0;
    let fileCount = 0;
    for (const arg of options.files) {
      let files: string[];
      try {
        files = await expand(arg, options.recursive);
      } catch (error) {
        io.stdout.write(`${arg}: cannot read: ${errorText(error)}\n`);
        invalid = true;
        continue;
      }
      if (files.length === 0) {
        io.stdout.write(`${arg}: no .yaml, .yml or .json files in this directory\n`);
        invalid = true;
      }
      for (const file of files) {
        fileCount++;
        let content: string;
        try {
          content = await readManifest(file, io);
        } catch (error) {
          io.stdout.write(`${file}: cannot read: ${errorText(error)}\n`);
          invalid = true;
          continue;
        }
        const report = validateManifestText(content);
        objects += report.valid.length;
        for (const p of report.problems) {
          io.stdout.write(`${file}: ${p.object}: ${p.path === "" ? "" : `${p.path}: `}${p.message}\n`);
          invalid = true;
        }
      }
    }
    io.stderr.write(invalid ? `validate: problems found (${objects} valid objects in ${fileCount} files)\n` : `validate: ${objects} objects valid in ${fileCount} files\n`);
    return invalid ? 1 : 0;
  },
};

function errorText(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e.code === "ENOENT") return "no such file or directory";
  if (e.code === "EACCES") return "permission denied";
  return e instanceof Error ? e.message : String(error);
}
