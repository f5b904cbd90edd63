// Property: for random valid orders, random starting Aegir states, random transient faults and
// controller crashes at any point, reconciling converges within a bounded number of rounds,
// leaves nothing to do (a further poll writes nothing), and never installs twice, sends a
// welcome mail twice or duplicates a support account.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HostedSiteSpecInput } from "../../crds/hostedsite.ts";
import { AegirSimulator, openAtriumPlatform } from "../harness/aegir/index.ts";
import { chaosRound, playChaos } from "../harness/chaos-rounds.ts";
import { hostedSite } from "./fixtures.ts";
import { Rig, TRACKER } from "./harness.ts";

const URI = "acme.sites.example.com";
const MAIL = "jane@acme.example.com";
const FEATURES = ["oa_wiki", "oa_events", "oa_files", "oa_markdown", "oa_analytics", "oa_project"];

const spec = fc.record({
  features: fc.uniqueArray(fc.constantFrom(...FEATURES), { maxLength: 4 }),
  theme: fc.option(fc.constantFrom("oa_theme", "oa_radix", "oa_corporate"), { nil: undefined }),
  userQuota: fc.integer({ min: 1, max: 200 }),
  tier: fc.constantFrom("Basic", "Standard", "Premium"),
  suspended: fc.boolean(),
  https: fc.constantFrom("Disabled", "Enabled", "Required"),
  aliases: fc.subarray(["www.acme.example.com", "intranet.acme.example.com"]),
  namedOwner: fc.boolean(),
});

const start = fc.record({
  exists: fc.boolean(),
  modules: fc.subarray(FEATURES),
  owner: fc.constantFrom("absent", "present", "with-role"),
  trackerAccount: fc.boolean(),
});

const COMMANDS = ["php-eval:server-status", "php-eval:site-state", "php-eval:create-site", "php-eval:queue-task", "php-eval:update-site", "php-eval:welcome-mail", "php-eval:find-account", "pm-enable", "pm-disable", "variable-set", "user-create", "user-add-role", "user-remove-role"];
const round = chaosRound(COMMANDS, 4);

describe("reconcile convergence (property)", () => {
  it("converges, then stays quiet, and never does anything twice", async () => {
    await fc.assert(
      fc.asyncProperty(spec, start, fc.array(round, { minLength: 0, maxLength: 25 }), fc.integer({ min: 1, max: 1_000 }), async (s, initial, chaos, seed) => {
        const owner = initial.owner === "absent" ? [] : [{ name: "jane", mail: MAIL, roles: initial.owner === "with-role" ? ["manager"] : [] }];
        const sim = new AegirSimulator({
          platforms: [openAtriumPlatform({ extraRoles: ["manager"], extraThemes: ["oa_corporate"] })],
          sites: [
            { uri: TRACKER, roles: ["customer", "customer standard", "customer premium"], users: initial.trackerAccount ? [{ name: "jane.acme.example.com", mail: MAIL }] : [] },
            ...(initial.exists ? [{ uri: URI, modules: initial.modules, users: owner }] : []),
          ],
          autoRunTasks: false,
          seed,
        });
        const input: Partial<HostedSiteSpecInput> = {
          domain: URI,
          features: s.features,
          userQuota: s.userQuota,
          support: { tier: s.tier },
          suspended: s.suspended,
          https: s.https,
          aliases: s.aliases,
          owner: { email: MAIL, ...(s.namedOwner ? { name: "jane" } : {}) },
          ...(s.theme ? { theme: s.theme } : {}),
        };
        const rig = new Rig(hostedSite(input), sim);

        // Chaos: faults and crashes, reconciling as the runtime would.
        await playChaos(rig, sim.faults, chaos);
        // Faults have stopped: a create that may have been lost gets its settle time.
        rig.advance(600_000);

        const rounds = await rig.converge(40).catch(() => -1);
        if (s.suspended) {
          for (let i = 0; i < 6; i++) {
            await rig.reconcile();
            rig.advance(5_000);
          }
          expect(rig.condition("Ready")).toMatchObject({ status: "False", reason: "Suspended" });
          expect(sim.site(URI)?.status).toBe(-1);
        } else {
          expect(rounds).toBeGreaterThan(0);
        }

        // Converged: one more poll after the drift check issues no write.
        rig.advance(3_600_000);
        const mark = sim.stats.records.length;
        await rig.reconcile();
        rig.advance(60_000);
        await rig.reconcile();
        expect(rig.writesSince(mark)).toBe(0);

        // Nothing done twice.
        expect(sim.siteNodes(URI)).toHaveLength(1);
        const node = sim.site(URI)!;
        expect([...sim.hostmaster.tasks.values()].filter((t) => t.rid === node.nid && t.type === "install").length).toBeLessThanOrEqual(1);
        expect(node.drupal!.outbox.filter((m) => m.kind === "register_admin_created" && m.to === MAIL).length).toBeLessThanOrEqual(1);
        // The site's marker guards the mail; the plan must not even ask twice once it is there.
        expect(sim.stats.records.filter((r) => r.name === "php-eval:welcome-mail" && r.outcome === "exited" && r.code === 0).length).toBeLessThanOrEqual(1);
        expect([...sim.site(TRACKER)!.drupal!.users.values()].filter((u) => u.mail === MAIL)).toHaveLength(1);
        const accounts = [...node.drupal!.users.values()].filter((u) => u.mail === MAIL);
        expect(accounts).toHaveLength(1);
        expect(accounts[0]!.uid).toBeGreaterThan(1);
      }),
      { numRuns: 40, seed: 20261124 },
    );
  });
});
