// Carry out a space plan's operations through the space driver, in order, stopping at the
// first failure. Every space script is idempotent (by machine name, and the welcome mail by its
// marker on the site), so no intent needs recording in Kubernetes first.
import { AegirError } from "../aegir/errors.ts";
import { applyInOrder, type AppliedInOrder } from "../apply-in-order.ts";
import type { SpaceDriver } from "../aegir/spaces.ts";
import type { SpaceDesired } from "./desired.ts";
import type { SpaceOperation } from "./plan.ts";
import type { SpaceWrites } from "./space-lists.ts";

export interface SpaceApplyResult extends AppliedInOrder<SpaceOperation> {
  /** The owner's uid as the site confirmed it in this run. */
  ownerUid: number | undefined;
  /** Set when the site answered the welcome request in this run. */
  welcomed: { at: Date; state: "sending" | "sent" | "failed" } | undefined;
  /** What the writes left on the site, for the cached space list. */
  written: SpaceWrites;
}

interface ApplyContext {
  desired: SpaceDesired;
  driver: SpaceDriver;
  ownerUid: number | undefined;
}

export async function applySpacePlan(operations: readonly SpaceOperation[], ctx: ApplyContext): Promise<SpaceApplyResult> {
  const result: SpaceApplyResult = { applied: [], failed: undefined, ownerUid: undefined, welcomed: undefined, written: {} };
  return applyInOrder(operations, result, (op, r) => applyOne(op, ctx, r));
}

async function applyOne(op: SpaceOperation, ctx: ApplyContext, result: SpaceApplyResult): Promise<void> {
  const { desired, driver } = ctx;
  switch (op.kind) {
    case "InstallQuotaModule":
      result.written.module = await driver.installModule(desired.uri);
      return;
    case "EnsureSpace":
      result.written.row = (await driver.ensure(desired.uri, desired.machine, op.settings)).space;
      return;
    case "EnsureOwner": {
      const owner = await driver.ensureOwner(desired.uri, desired.machine, { name: op.name, mail: op.mail });
      result.ownerUid = owner.uid;
      result.written.row = owner.space;
      return;
    }
    case "WelcomeOwner": {
      const uid = result.ownerUid ?? ctx.ownerUid;
      if (uid === undefined) throw new AegirError("UnknownUser", `The account of ${op.mail} is not known yet`, { command: "php-eval:space-welcome" });
      const welcome = await driver.welcome(desired.uri, desired.machine, { mail: op.mail, uid });
      result.welcomed = { at: new Date(welcome.marker.at * 1000), state: welcome.marker.state };
      result.written.row = welcome.space;
      return;
    }
    case "DeleteSpace":
      await driver.delete(desired.uri, desired.machine);
      result.written.row = null;
      return;
  }
}
