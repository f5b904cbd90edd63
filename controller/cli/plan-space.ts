// `aegir-operator plan -f SPACE.yaml`: the HostedSpace half of plan. The shared site is named by
// uri and server, or by a HostedSite given with -f (its domain, and its server as placed, or
// spec.server, or the only AegirServer given).
import type { AegirServer, HostedSite, HostedSpace } from "../../crds/kinds.ts";
import type { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { describeSpaceOperation } from "../../reconcilers/hostedspace/plan.ts";
import { previewSpace, type SpacePreview } from "../../reconcilers/hostedspace/preview.ts";
import type { CommandIO } from "./command.ts";

/** The space with its shared site resolved from the manifests, or why it cannot be. */
export function locateSharedSite(space: HostedSpace, sites: readonly HostedSite[], servers: readonly AegirServer[]): HostedSpace | string {
  const ref = space.spec.site;
  if (ref.hostedSite === undefined) return space;
  const site = sites.find((s) => s.metadata.name === ref.hostedSite);
  if (site === undefined) return `the space lives in HostedSite ${ref.hostedSite}: give its manifest with -f too`;
  // A HostedSite read from the cluster carries its placement; one from a file may not.
  if (site.status?.server !== undefined) return space;
  const server = site.spec.server ?? (servers.length === 1 ? servers[0]?.metadata.name : undefined);
  if (server === undefined) return `HostedSite ${site.metadata.name} names no server: set spec.server or give exactly one AegirServer`;
  return { ...space, spec: { ...space.spec, site: { uri: site.spec.domain, server } } };
}

export async function planHostedSpace(space: HostedSpace, world: { sites: readonly HostedSite[]; driver: (server: string) => AegirDriver; now: Date }, io: CommandIO, output: "text" | "json"): Promise<number> {
  const preview = await previewSpace(space, world);
  print(io, space, preview, output);
  return "error" in preview ? 1 : 0;
}

function print(io: CommandIO, space: HostedSpace, preview: SpacePreview, output: "text" | "json"): void {
  const name = `${space.metadata.namespace}/${space.metadata.name}`;
  if (output === "json") {
    const body = "error" in preview ? { space: name, ...preview } : { space: name, server: preview.desired.server, site: preview.desired.uri, released: preview.plan.released, problems: preview.plan.problems, operations: preview.plan.operations };
    io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return;
  }
  if ("error" in preview) {
    io.stdout.write(`HostedSpace ${name}: cannot plan: ${preview.error}: ${preview.message}\n`);
    return;
  }
  const { desired, observed, plan } = preview;
  const spaceLine = observed.space ? `node ${observed.space.nid}, ${observed.space.members} of ${observed.space.quota ?? "unlimited"} members${observed.space.published ? "" : ", archived"}` : "not on the site yet";
  io.stdout.write(
    `HostedSpace ${name} (${desired.machine} on ${desired.uri})\n  server:   ${desired.server}\n  space:    ${spaceLine}\n  module:   ${observed.module ?? "not enabled"}\n`,
  );
  for (const p of plan.problems) io.stdout.write(`  problem:  ${p.reason}: ${p.message}  [${p.aspect}]\n`);
  if (plan.operations.length === 0) {
    io.stdout.write(plan.problems.length > 0 ? "No operations until the problem is solved.\n" : "Nothing to do: the space matches its spec.\n");
    return;
  }
  io.stdout.write(`Would run ${plan.operations.length} operation(s):\n`);
  plan.operations.forEach((op, i) => io.stdout.write(`  ${String(i + 1).padStart(2)}. ${describeSpaceOperation(op)}  [${op.aspect}]\n`));
}
