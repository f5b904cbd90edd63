// The one pino setup every command uses: JSON lines, ISO times, secrets redacted by key.
import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger };

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
export const REDACTED_KEYS = [
  "password",
  "passwd",
  "secret",
  "token",
  "authorization",
  "privateKey",
  "private_key",
  "webhookSecret",
  "apiKey",
  "stripe-signature",
  "databaseUrl",
];

const redactPaths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `headers["${k}"]`, `req.headers["${k}"]`]);

export interface LoggerOptions {
  level?: string;
  /** Component name, e.g. `controller` or `webhook`; added to every line. */
  name: string;
  destination?: DestinationStream;
}

export function createLogger({ level = "info", name, destination }: LoggerOptions): Logger {
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
