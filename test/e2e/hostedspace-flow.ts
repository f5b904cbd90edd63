// End to end for HostedSpace: a shared demo site (a HostedSite), then a space in it applied with
// kubectl → Ready with the owner its administrator and welcomed once; a member beyond the quota
// refused by the site; suspend → archived → resume; delete → gone.
import { expect } from "vitest";
import { API_VERSION } from "../../crds/group.ts";
import type { Kubectl } from "../harness/kube/index.ts";
import { joinSpace, openAtrium, spaceByMachine, OG_ADMINISTRATOR_ROLE } from "../harness/aegir/spaces.ts";
import { addUser, userByName } from "../harness/aegir/drupal.ts";
import { type Stack, eventually } from "./stack.ts";

const SHARED = "demo.sites.example.com";

function hostedSpace(spec: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: API_VERSION,
    kind: "HostedSpace",
    metadata: { name: "tinker", namespace: "customers" },
    spec: { site: { hostedSite: "demo" }, title: "Tinker Labs", machineName: "tinker", memberQuota: 2, owner: { email: "ada@tinker.example.com" }, support: { tier: "Basic" }, ...spec },
  });
}

export async function hostedSpaceFlow(stack: Stack, kubectl: Kubectl): Promise<void> {
  await kubectl.run(["apply", "-f", "-"], stack.hostedSite("demo", SHARED, { features: [], userQuota: 1000 }));
  expect((await kubectl.run(["apply", "-f", "-"], hostedSpace())).stderr).toBe("");
  const wait = await kubectl.run(["wait", "--for=condition=Ready", "hostedspace/tinker", "--timeout=90s"]);
  expect(wait.stdout, wait.stderr).toContain("condition met");
  const get = await kubectl.run(["get", "hsp"]);
  expect(get.stdout, get.stdout).toMatch(/tinker\s+demo\.sites\.example\.com\s+tinker\s+1\s+2\s+True\s+Available/);

  const drupal = stack.sim.site(SHARED)!.drupal!;
  const space = spaceByMachine(drupal, "tinker")!;
  const owner = userByName(drupal, "ada.tinker.example.com")!;
  expect(owner.uid).toBeGreaterThan(1);
  expect(space.members.get(owner.uid)?.roles).toContain(OG_ADMINISTRATOR_ROLE);
  expect(drupal.outbox.filter((m) => m.kind === "space_welcome").map((m) => m.uid)).toEqual([owner.uid]);

  // The quota is the site's own rule: the second member gets in, the third is refused.
  const bob = addUser(drupal, { name: "bob", mail: "bob@example.com", now: 0 });
  const eve = addUser(drupal, { name: "eve", mail: "eve@example.com", now: 0 });
  expect(joinSpace(drupal, space, bob.uid)).toEqual({ ok: true });
  expect(joinSpace(drupal, space, eve.uid)).toMatchObject({ ok: false });

  await kubectl.run(["apply", "-f", "-"], hostedSpace({ suspended: true }));
  await eventually(() => (space.status === 0 ? true : undefined), 30_000, "the space archived");
  expect((await kubectl.run(["wait", "--for=condition=Suspended", "hostedspace/tinker", "--timeout=30s"])).code).toBe(0);
  expect(space.members.size).toBe(2);
  await kubectl.run(["apply", "-f", "-"], hostedSpace());
  expect((await kubectl.run(["wait", "--for=condition=Ready", "hostedspace/tinker", "--timeout=30s"])).code).toBe(0);
  expect(space.status).toBe(1);

  const deleted = await kubectl.run(["delete", "hostedspace/tinker", "--timeout=60s"]);
  expect(deleted.code, deleted.stderr).toBe(0);
  expect(openAtrium(drupal).spaces.size).toBe(0);
  expect(drupal.outbox.filter((m) => m.kind === "space_welcome")).toHaveLength(1);
}
