// The space driver: reads and changes Open Atrium spaces on a shared site through the operator's
// space scripts (space-scripts.ts), run by the site's AegirDriver.
import { z } from "zod";
import { DISPLAY_NAME_PATTERN, DRUPAL_USERNAME_PATTERN, email, machineName } from "../../crds/primitives.ts";
import type { AegirDriver } from "./driver.ts";
import { AegirError } from "./errors.ts";
import { AccountWire } from "./state.ts";

const WelcomeMarker = z.object({ state: z.enum(["sending", "sent", "failed"]), at: z.int() });

export const SpaceSummaryWire = z.object({
  machine: z.string(),
  nid: z.int(),
  title: z.string(),
  published: z.boolean(),
  public: z.boolean(),
  blueprint: z.string(),
  quota: z.int().nullable(),
  members: z.int(),
  /** Active members with the space's OG administrator role. */
  admins: z.array(z.int()),
  /** Welcome-mail state by uid. */
  welcome: z.record(z.string(), WelcomeMarker.shape.state),
});
export type SpaceSummary = z.infer<typeof SpaceSummaryWire>;

export const SpaceListWire = z.object({ module: z.string().nullable(), spaces: z.array(SpaceSummaryWire) });
/** The batched read of a shared site: the quota module's version (null: not enabled) and every managed space. */
export type SpaceList = z.infer<typeof SpaceListWire>;

export const SpaceStateWire = z.object({
  nid: z.int(),
  owner: AccountWire.extend({ siteAdmin: z.boolean() }).nullable(),
  membership: z.object({ state: z.int(), admin: z.boolean() }).nullable(),
  welcome: WelcomeMarker.nullable(),
});
/** The deep read of one space: its owner's account and membership, and the welcome marker. */
export type SpaceState = z.infer<typeof SpaceStateWire>;

// Each write answers with its space's list row as the write left it (null: the node is gone).
const Row = { space: SpaceSummaryWire.nullable() };
const EnsuredWire = z.object({ nid: z.int(), created: z.boolean(), ...Row });
const OwnerWire = z.object({ uid: z.int(), created: z.boolean(), ...Row });
const WelcomeWire = z.object({ uid: z.int(), sent: z.boolean(), marker: WelcomeMarker, ...Row });
const ModuleWire = z.object({ version: z.string() });
const DeletedWire = z.object({ deleted: z.boolean() });

export interface SpaceSettings {
  title: string;
  public: boolean;
  blueprint: string;
  published: boolean;
  quota: number;
}

const MACHINE = machineName();
const USER = z.string().max(60).regex(new RegExp(DRUPAL_USERNAME_PATTERN));
const MAIL = email();
const TEXT = z.string().max(255).regex(new RegExp(DISPLAY_NAME_PATTERN));

/** A value for a script's input, validated again here: the error names the field, never its value. */
function valid<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new TypeError(`${field}: ${result.error.issues[0]?.message ?? "invalid"}`);
  return result.data;
}

export class SpaceDriver {
  private readonly driver: AegirDriver;

  constructor(driver: AegirDriver) {
    this.driver = driver;
  }

  /** Every managed space of the site and the quota module's version: one command, whatever the space count. */
  async list(uri: string): Promise<SpaceList> {
    return this.driver.script(uri, "space-list", {}, SpaceListWire, "read");
  }

  async state(uri: string, machine: string, owner: { mail: string }): Promise<SpaceState> {
    const input = { machine: valid(MACHINE, machine, "machine"), owner: { mail: valid(MAIL, owner.mail, "owner.mail") } };
    return this.driver.script(uri, "space-state", input, SpaceStateWire, "read");
  }

  async installModule(uri: string): Promise<string> {
    return (await this.driver.script(uri, "space-module", {}, ModuleWire, "write")).version;
  }

  async ensure(uri: string, machine: string, settings: SpaceSettings): Promise<z.infer<typeof EnsuredWire>> {
    const input = {
      machine: valid(MACHINE, machine, "machine"),
      title: valid(TEXT, settings.title, "title"),
      public: settings.public,
      blueprint: valid(TEXT, settings.blueprint, "blueprint"),
      published: settings.published,
      quota: valid(z.int().min(1), settings.quota, "quota"),
    };
    return this.driver.script(uri, "space-ensure", input, EnsuredWire, "write");
  }

  async ensureOwner(uri: string, machine: string, owner: { name: string; mail: string }): Promise<z.infer<typeof OwnerWire>> {
    const input = { machine: valid(MACHINE, machine, "machine"), name: valid(USER, owner.name, "owner.name"), mail: valid(MAIL, owner.mail, "owner.mail") };
    return this.driver.script(uri, "space-owner", input, OwnerWire, "write");
  }

  /** The welcome mail, once; refused (OwnerIsSiteAdmin) for uid 1 or any account but `uid`. */
  async welcome(uri: string, machine: string, owner: { mail: string; uid: number }): Promise<z.infer<typeof WelcomeWire>> {
    if (owner.uid <= 1) throw new AegirError("OwnerIsSiteAdmin", `Refusing a login link for uid ${owner.uid}`, { command: "php-eval:space-welcome" });
    const input = { machine: valid(MACHINE, machine, "machine"), mail: valid(MAIL, owner.mail, "owner.mail"), uid: owner.uid };
    const result = await this.driver.script(uri, "space-welcome", input, WelcomeWire, "write");
    if (result.uid !== owner.uid) throw new AegirError("OwnerIsSiteAdmin", `The site answered for uid ${result.uid}, not the owner's uid ${owner.uid}`, { command: "php-eval:space-welcome" });
    return result;
  }

  async delete(uri: string, machine: string): Promise<boolean> {
    return (await this.driver.script(uri, "space-delete", { machine: valid(MACHINE, machine, "machine") }, DeletedWire, "write")).deleted;
  }
}
