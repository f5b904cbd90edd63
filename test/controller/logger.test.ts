import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../common/logger.ts";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().trim().split("\n"));
      done();
    },
  });
  return { lines, destination };
}

describe("createLogger", () => {
  it("writes one JSON line per event with the component name and level label", () => {
    const { lines, destination } = capture();
    createLogger({ name: "controller", destination }).info({ hostedsite: "customers/acme", reconcileID: "r1" }, "reconciled");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "info", name: "controller", hostedsite: "customers/acme", reconcileID: "r1", msg: "reconciled" });
  });

  it("never writes secrets, at any depth we log them", () => {
    const { lines, destination } = capture();
    const log = createLogger({ name: "webhook", destination });
    log.info({ password: "p4ss", config: { webhookSecret: "whsec_123", databaseUrl: "postgres://u:pw@db/x" }, req: { headers: { authorization: "Bearer tok", "stripe-signature": "t=1,v1=abc" } } }, "start");
    log.info({ server: { ssh: { privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----" } } }, "connect");
    const text = lines.join("\n");
    for (const secret of ["p4ss", "whsec_123", "u:pw", "Bearer tok", "v1=abc", "BEGIN OPENSSH"]) expect(text).not.toContain(secret);
    expect(text).toContain("[redacted]");
  });

  it("honours the level", () => {
    const { lines, destination } = capture();
    const log = createLogger({ name: "x", level: "warn", destination });
    log.info("hidden");
    log.warn("shown");
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(["shown"]);
  });
});
