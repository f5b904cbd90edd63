// Property: for random valid space orders, random starting accounts on the shared site, random
// transient faults and controller crashes at any point, reconciling converges, then stays quiet
// (a further poll writes nothing), and leaves exactly one space node, one owner membership with
// the administrator role, and at most one welcome mail, never to uid 1.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AegirSimulator, openAtriumPlatform } from "../harness/aegir/index.ts";
import { chaosRound, playChaos } from "../harness/chaos-rounds.ts";
import { OG_ADMINISTRATOR_ROLE, openAtrium } from "../harness/aegir/spaces.ts";
import { userByMail } from "../harness/aegir/drupal.ts";
import { SHARED, SpaceRig, hostedSpace } from "./harness.ts";

const MAIL = "jane@acme.example.com";
const COMMANDS = ["php-eval:space-list", "php-eval:space-state", "php-eval:space-module", "php-eval:space-ensure", "php-eval:space-owner", "php-eval:space-welcome"];

const spec = fc.record({
  memberQuota: fc.integer({ min: 1, max: 50 }),
  visibility: fc.constantFrom("Public", "Private"),
  blueprint: fc.constantFrom("Default", "Team Space"),
  suspended: fc.boolean(),
  namedOwner: fc.boolean(),
});
const round = chaosRound(COMMANDS, 2);

describe("space convergence (property)", () => {
  it("converges, then stays quiet, and never creates or sends anything twice", async () => {
    await fc.assert(
      fc.asyncProperty(spec, fc.boolean(), fc.array(round, { maxLength: 20 }), fc.integer({ min: 1, max: 1_000 }), async (s, ownerExists, chaos, seed) => {
        const sim = new AegirSimulator({ platforms: [openAtriumPlatform()], sites: [{ uri: SHARED, users: ownerExists ? [{ name: "jane", mail: MAIL }] : [] }], seed });
        const rig = new SpaceRig(
          hostedSpace("acme", { memberQuota: s.memberQuota, visibility: s.visibility, blueprint: s.blueprint, suspended: s.suspended, owner: { email: MAIL, ...(s.namedOwner ? { name: "jane" } : {}) } }),
          sim,
        );
        // Chaos: faults and crashes, reconciling as the runtime would.
        await playChaos(rig, sim.faults, chaos);

        if (s.suspended) {
          for (let i = 0; i < 6; i++) {
            await rig.reconcile();
            rig.advance(5_000);
          }
          expect(rig.condition("Ready")).toMatchObject({ status: "False", reason: "Suspended" });
          expect(rig.spaceNode()?.status).toBe(0);
        } else {
          await rig.converge(20);
        }

        rig.advance(3_600_000);
        const mark = sim.stats.records.length;
        const statusWrites = rig.store.writes.status;
        await rig.reconcile();
        rig.advance(60_000);
        await rig.reconcile();
        expect(sim.stats.records.slice(mark).filter((r) => r.kind === "write")).toEqual([]);
        expect(rig.store.writes.status).toBe(statusWrites);

        expect(openAtrium(rig.drupal).spaces.size).toBe(1);
        const mails = rig.drupal.outbox.filter((m) => m.kind === "space_welcome");
        expect(mails.length).toBeLessThanOrEqual(1);
        expect(mails.every((m) => m.uid > 1)).toBe(true);
        if (!s.suspended) {
          const owner = userByMail(rig.drupal, MAIL)!;
          expect(owner.uid).toBeGreaterThan(1);
          const members = [...rig.spaceNode()!.members];
          expect(members).toEqual([[owner.uid, { state: 1, roles: ["member", OG_ADMINISTRATOR_ROLE] }]]);
          expect(mails).toHaveLength(rig.store.space.status?.owner?.welcome === "Sent" ? 1 : 0);
        }
      }),
      { numRuns: 40, seed: 20261207 },
    );
  });
});
