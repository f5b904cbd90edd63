// Checks recorded API requests against RBAC rules, both ways: every request must be allowed
// (nothing is missing), and every rule verb must have been used (nothing is granted beyond need).
import * as yaml from "js-yaml";
import type { RequestRecord } from "./faults.ts";

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

interface RoleObject {
  kind: "ClusterRole" | "Role";
  metadata: { name: string; namespace?: string };
  rules: PolicyRule[];
}

export interface Grant {
  role: string;
  namespace: string | undefined;
  apiGroup: string;
  resource: string;
  verb: string;
}

export function grantsOf(rbacYaml: string, roleName: string): Grant[] {
  const roles = (yaml.loadAll(rbacYaml) as RoleObject[]).filter((r) => r.metadata.name === roleName);
  return roles.flatMap((role) =>
    role.rules.flatMap((rule) =>
      rule.apiGroups.flatMap((apiGroup) =>
        rule.resources.flatMap((resource) =>
          rule.verbs.map((verb) => ({ role: `${role.kind}/${role.metadata.name}`, namespace: role.kind === "Role" ? role.metadata.namespace : undefined, apiGroup, resource, verb })),
        ),
      ),
    ),
  );
}

function covers(grant: Grant, r: RequestRecord): boolean {
  const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  return grant.apiGroup === r.apiGroup && grant.resource === resource && grant.verb === r.verb && (grant.namespace === undefined || grant.namespace === r.namespace);
}

/** Resource requests no grant allows, and grants no request used. Discovery and non-resource paths are not RBAC'd here. */
export function auditRequests(grants: readonly Grant[], requests: readonly RequestRecord[]): { denied: string[]; unused: string[] } {
  const resourceRequests = requests.filter((r) => r.resource !== "");
  const denied = resourceRequests.filter((r) => !grants.some((g) => covers(g, r))).map((r) => `${r.verb} ${r.apiGroup || "core"}/${r.resource}${r.subresource ? `/${r.subresource}` : ""} in ${r.namespace || "(cluster)"}`);
  const unused = grants.filter((g) => !resourceRequests.some((r) => covers(g, r))).map((g) => `${g.role}: ${g.verb} ${g.apiGroup || "core"}/${g.resource}`);
  return { denied: [...new Set(denied)], unused };
}
