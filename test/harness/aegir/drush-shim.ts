// `drush` on a test box behind a real sshd: forwards argv and stdin to the simulated Aegir
// over HTTP on 127.0.0.1, relays stdout/stderr and the exit status. Standalone (Node built-ins
// only) so it starts fast. Configuration: AEGIR_SIM_URL + AEGIR_SIM_TOKEN, or AEGIR_SIM_CONFIG
// naming a JSON file {url, token} (written next to the wrapper by installShim()).
import { readFileSync } from "node:fs";

interface Config {
  url: string;
  token: string;
}

function config(): Config {
  const { AEGIR_SIM_URL: url, AEGIR_SIM_TOKEN: token, AEGIR_SIM_CONFIG: file } = process.env;
  if (url && token) return { url, token };
  if (file) return JSON.parse(readFileSync(file, "utf8")) as Config;
  throw new Error("set AEGIR_SIM_URL and AEGIR_SIM_TOKEN, or AEGIR_SIM_CONFIG");
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  // Like drush, only php-eval reads standard input; other commands must not wait for it.
  const stdin = args.some((a) => a === "php-eval" || a === "ev" || a === "eval") ? await readStdin() : "";
  const { url, token } = config();
  const response = await fetch(`${url}/exec`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ argv: ["drush", ...args], stdin }),
  });
  if (!response.ok) throw new Error(`simulator answered HTTP ${response.status}: ${await response.text()}`);
  const result = (await response.json()) as { code: number; stdout: string; stderr: string } | { dropped: true };
  if ("dropped" in result) {
    // An injected connection drop: die abruptly so the SSH session ends without an exit status.
    process.kill(process.pid, "SIGKILL");
    return 255;
  }
  await write(process.stdout, result.stdout);
  await write(process.stderr, result.stderr);
  return result.code;
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => (text === "" ? resolve() : stream.write(text, () => resolve())));
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`drush shim: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 255;
  },
);
