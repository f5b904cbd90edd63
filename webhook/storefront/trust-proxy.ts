// Which proxies' X-Forwarded-For is believed, in the forms fastify's `trustProxy` takes: off (the
// TCP peer is the client), a hop count (that many proxies in front, e.g. the ingress), or the
// proxies' addresses. "Trust everything" is refused: any client could then pick its own address.
import { isIP } from "node:net";
import { z } from "zod";

export type TrustedProxies = false | number | string[];

/** proxy-addr's names for the loopback, link-local and unique-local ranges. */
const NAMED_RANGES = new Set(["loopback", "linklocal", "uniquelocal"]);

function isAddressOrCidr(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const [address = "", prefix, extra] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

export const TrustProxy = z
  .string()
  .optional()
  .transform((raw, ctx): TrustedProxies => {
    const value = (raw ?? "").trim();
    if (value === "" || value === "false" || value === "0") return false;
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      if (hops <= 16) return hops;
      ctx.addIssue({ code: "custom", message: "a hop count must be at most 16" });
      return z.NEVER;
    }
    const entries = value.split(",").map((e) => e.trim()).filter((e) => e !== "");
    const bad = entries.find((e) => !isAddressOrCidr(e));
    if (bad !== undefined) {
      ctx.addIssue({ code: "custom", message: `must be false, the number of proxies in front, or their addresses/CIDRs like 10.0.0.0/8 (not ${JSON.stringify(bad.slice(0, 45))})` });
      return z.NEVER;
    }
    return entries;
  });

/** As fastify's `trustProxy` option (its types lack the hop count it accepts). */
export function fastifyTrustProxy(trusted: TrustedProxies): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof trusted === "number" ? (_address, hop) => hop < trusted : trusted;
}
