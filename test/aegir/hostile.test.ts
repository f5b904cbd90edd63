// Hostile values never reach the server: the driver's own validation refuses them (a
// TypeError naming the argument, or the zod error for a URI) before any command runs.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { simulated } from "./setup.ts";

const HOSTILE = ["jane; rm -rf /", "$(id)", "`id`", "a'b", 'a"b', "a\nb", "a|b", "../../etc/passwd", "a b ", "", "-y", "--uri=http://evil", "\u0000", "JANE"];

describe("hostile values are refused before anything runs", () => {
  it.each(HOSTILE)("user name %j", async (name) => {
    const { sim, driver } = simulated();
    await expect(driver.createUser("@acme.example.com", name, "jane@example.com")).rejects.toThrow(/^name: /);
    await expect(driver.addRole("@acme.example.com", "manager", name)).rejects.toThrow(/^name: /);
    expect(sim.stats.count()).toBe(0);
  });

  it.each(["x@y.z; id", "jane@example.com'", "$(id)@example.com", "jane@exa mple.com"])("mail %j", async (mail) => {
    const { sim, driver } = simulated();
    await expect(driver.createUser("@acme.example.com", "jane", mail)).rejects.toThrow(/^mail: /);
    expect(sim.stats.count()).toBe(0);
  });

  it.each(["oa_wiki; id", "OA_WIKI", "-y", "oa wiki", "../x", "$(id)"])("module %j", async (module) => {
    const { sim, driver } = simulated();
    await expect(driver.enableModules("acme.example.com", ["oa_wiki", module])).rejects.toThrow(/^modules\[1\]: /);
    await expect(driver.setDefaultTheme("acme.example.com", module)).rejects.toThrow(/^theme: /);
    await expect(driver.disableModules("acme.example.com", [module])).rejects.toThrow(/^extensions\[0\]: /);
    expect(sim.stats.count()).toBe(0);
  });

  it.each(["manager; id", "Manager", " manager", "manager  x", "$(id)"])("role %j", async (role) => {
    const { sim, driver } = simulated();
    await expect(driver.addRole("@acme.example.com", role, "jane")).rejects.toThrow(/^role: /);
    await expect(driver.removeRole("@acme.example.com", role, "jane")).rejects.toThrow(/^role: /);
    expect(sim.stats.count()).toBe(0);
  });

  it("variable names and values", async () => {
    const { sim, driver } = simulated();
    await expect(driver.setVariable("acme.example.com", "theme_default; id", "x")).rejects.toThrow(/^name: /);
    await expect(driver.setVariable("acme.example.com", "site_slogan", "$(id)")).rejects.toThrow(/^value: /);
    await expect(driver.setVariable("acme.example.com", "site_slogan", "a\nb")).rejects.toThrow(/^value: /);
    await expect(driver.setVariable("acme.example.com", "user_limit", 1.5)).rejects.toThrow(/^value: /);
    expect(sim.stats.count()).toBe(0);
  });

  it("site aliases and URIs", async () => {
    const { sim, driver } = simulated();
    await expect(driver.createUser("@acme.example.com; id", "jane", "jane@example.com")).rejects.toThrow(/^alias: /);
    await expect(driver.findAccount("support.example.com", { name: "jane" })).rejects.toThrow(/^alias: /);
    await expect(driver.siteState("ACME.example.com", { name: "jane", mail: "jane@example.com" })).rejects.toThrow();
    await expect(driver.createSite({ uri: "acme.example.com", platform: "platform_openatrium2652", profile: "openatrium", aliases: ["$(id).example.com"], https: "Disabled" })).rejects.toThrow();
    await expect(driver.queueTask("acme.example.com", "migrate")).rejects.toThrow(/target platform/);
    expect(sim.stats.count()).toBe(0);
  });

  it("any user name outside the pattern is refused (property)", async () => {
    const { sim, driver } = simulated();
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/^[a-z0-9][a-z0-9._-]*$/.test(s)),
        async (name) => {
          await expect(driver.createUser("@acme.example.com", name, "jane@example.com")).rejects.toThrow(TypeError);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
    expect(sim.stats.count()).toBe(0);
  });
});
