import { z } from "zod";
import { describe, expect, it } from "vitest";
import { ConfigError, LogLevel, bool, describeOptions, loadConfig, parseArgs, port } from "../../common/config.ts";

const specs = {
  metricsPort: { flag: "metrics-port", env: "METRICS_PORT", schema: port(8080), description: "metrics port" },
  logLevel: { flag: "log-level", env: "LOG_LEVEL", schema: LogLevel, description: "log level" },
  leaderElect: { flag: "leader-elect", env: "LEADER_ELECT", schema: bool(true), description: "use leader election" },
  webhookSecret: { flag: "webhook-secret", env: "STRIPE_WEBHOOK_SECRET", schema: z.string().startsWith("whsec_"), description: "signing secret", secret: true },
};

describe("loadConfig", () => {
  it("takes flags over env over defaults", () => {
    const { flags } = parseArgs(["--metrics-port", "9000", "--log-level=debug"]);
    const config = loadConfig(specs, flags, { METRICS_PORT: "7000", LOG_LEVEL: "warn", STRIPE_WEBHOOK_SECRET: "whsec_abc" });
    expect(config).toEqual({ metricsPort: 9000, logLevel: "debug", leaderElect: true, webhookSecret: "whsec_abc" });
    const fromEnv = loadConfig(specs, new Map(), { METRICS_PORT: "7000", LEADER_ELECT: "false", STRIPE_WEBHOOK_SECRET: "whsec_abc" });
    expect(fromEnv).toMatchObject({ metricsPort: 7000, logLevel: "info", leaderElect: false });
  });

  it("reports every problem at once, naming flag and env var, never echoing secrets", () => {
    const { flags } = parseArgs(["--metrics-port", "99999", "--bogus", "1"]);
    let error: unknown;
    try {
      loadConfig(specs, flags, { LOG_LEVEL: "loud", STRIPE_WEBHOOK_SECRET: "sk_live_supersecret" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems[0]).toBe("--bogus: unknown flag");
    expect(problems[1]).toMatch(/^--metrics-port \/ METRICS_PORT: .*65535.* \(got "99999"\)$/);
    expect(problems[2]).toMatch(/^--log-level \/ LOG_LEVEL: .* \(got "loud"\)$/);
    expect(problems[3]).toMatch(/^--webhook-secret \/ STRIPE_WEBHOOK_SECRET: .*\(value hidden\)$/);
    expect((error as Error).message).not.toContain("supersecret");
  });

  it("says when a required option is not set", () => {
    expect(() => loadConfig(specs, new Map(), {})).toThrow(/--webhook-secret \/ STRIPE_WEBHOOK_SECRET: is required \(not set\)/);
  });

  it("lists options with their env vars", () => {
    expect(describeOptions(specs)).toContain("--metrics-port");
    expect(describeOptions(specs)).toContain("[env METRICS_PORT]");
  });
});

describe("parseArgs", () => {
  it("separates flags and positionals", () => {
    const { flags, positionals } = parseArgs(["run", "--verbose", "--name", "x", "--", "--not-a-flag"], new Set(["verbose"]));
    expect(Object.fromEntries(flags)).toEqual({ verbose: "true", name: "x" });
    expect(positionals).toEqual(["run", "--not-a-flag"]);
  });

  it("refuses a flag without its value", () => {
    expect(() => parseArgs(["--name"])).toThrow(/--name: needs a value/);
  });
});
