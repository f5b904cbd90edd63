// Carry out a plan's operations through the Aegir driver, in order, stopping at the first
// failure. Non-idempotent calls record their intent in Kubernetes first.
import type { AegirDriver } from "../aegir/driver.ts";
import { AegirError } from "../aegir/errors.ts";
import { applyInOrder, type AppliedInOrder } from "../apply-in-order.ts";
import type { Desired } from "./desired.ts";
import type { Operation } from "./plan.ts";

/** Durable notes written to the HostedSite before a call that must not run twice. */
export interface IntentRecorder {
  createAttempt(at: Date): Promise<void>;
}

export interface ApplyContext {
  desired: Desired;
  site: AegirDriver;
  /** Driver of the server hosting the support tracker. */
  tracker: AegirDriver | undefined;
  intents: IntentRecorder;
  now: () => Date;
}

export interface ApplyResult extends AppliedInOrder<Operation> {
  /** Set when the site confirmed the welcome mail in this run. */
  welcomed: { at: Date; state: "sending" | "sent" | "failed" } | undefined;
}

export async function applyPlan(operations: readonly Operation[], ctx: ApplyContext): Promise<ApplyResult> {
  const result: ApplyResult = { applied: [], failed: undefined, welcomed: undefined };
  return applyInOrder(operations, result, (op, r) => applyOne(op, ctx, r));
}

async function applyOne(op: Operation, ctx: ApplyContext, result: ApplyResult): Promise<void> {
  const { desired, site } = ctx;
  switch (op.kind) {
    case "CreateSite":
      await ctx.intents.createAttempt(ctx.now());
      await site.createSite({ uri: desired.uri, platform: desired.platform, profile: desired.profile, aliases: desired.aliases, https: desired.https });
      return;
    case "QueueTask":
      await site.queueTask(desired.uri, op.task);
      return;
    case "MigrateSite":
      await site.queueTask(desired.uri, "migrate", { targetPlatform: op.platform });
      return;
    case "UpdateSite":
      await site.updateSite(desired.uri, { aliases: op.aliases, https: op.https });
      return;
    case "EnableModules":
      await site.enableModules(desired.uri, op.modules);
      return;
    case "DisableModules":
      await site.disableModules(desired.uri, op.modules);
      return;
    case "SetTheme":
      await site.setDefaultTheme(desired.uri, op.theme);
      return;
    case "EnforceUserQuota":
      await site.enforceUserQuota(desired.uri, op.limit, op.keep);
      return;
    case "CreateOwner":
      await site.createUser(desired.alias, op.name, op.mail);
      return;
    case "AddOwnerRole":
      await site.addRole(desired.alias, op.role, op.name);
      return;
    case "SendWelcome": {
      const welcome = await site.sendWelcomeMail(desired.uri, op.name, op.role);
      result.welcomed = { at: new Date(welcome.marker.at * 1000), state: welcome.marker.state };
      return;
    }
    case "CreateTrackerAccount":
      await tracker(ctx).createUser(supportSite(ctx), op.name, op.mail);
      return;
    case "AddTrackerRole":
      await tracker(ctx).addRole(supportSite(ctx), op.role, op.name);
      return;
    case "RemoveTrackerRole":
      await tracker(ctx).removeRole(supportSite(ctx), op.role, op.name);
      return;
  }
}

function tracker(ctx: ApplyContext): AegirDriver {
  if (ctx.tracker === undefined) throw new AegirError("ConnectionRefused", "The support tracker's server is not available");
  return ctx.tracker;
}

function supportSite(ctx: ApplyContext): string {
  const site = ctx.desired.support?.site;
  if (site === undefined) throw new TypeError("support operation planned without a support tracker");
  return site;
}
