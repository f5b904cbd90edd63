// Thin Kubernetes adapter for the shop: a HostedSite's customer-facing status, and whether a
// domain is already some HostedSite's domain or alias (sites made by hand count too).
import { KubeConfig } from "@kubernetes/client-node";
import { z } from "zod";
import { isNotFound, KubeRest } from "../../common/kube/rest.ts";
import { API_VERSION } from "../../crds/group.ts";
import type { SiteStatus } from "./progress.ts";

export interface SiteDirectory {
  status(namespace: string, name: string): Promise<SiteStatus | null>;
  domainInUse(domain: string): Promise<boolean>;
}

const Site = z.object({
  spec: z.object({ domain: z.string().optional(), aliases: z.array(z.string()).optional(), owner: z.object({ email: z.string().optional() }).optional() }).optional(),
  status: z
    .object({
      url: z.string().optional(),
      owner: z.object({ welcomedAt: z.string().optional() }).optional(),
      conditions: z.array(z.object({ type: z.string(), status: z.string(), reason: z.string().optional() })).optional(),
    })
    .optional(),
});

export function kubeSiteDirectory(namespace: string, kubeConfig?: KubeConfig): SiteDirectory {
  const kc = kubeConfig ?? defaultKubeConfig();
  const rest = new KubeRest(kc, { userAgent: "aegir-operator-storefront", timeoutMs: 10_000 });
  const base = (ns: string) => `/apis/${API_VERSION}/namespaces/${encodeURIComponent(ns)}/hostedsites`;
  return {
    async status(ns, name) {
      let raw: unknown;
      try {
        raw = await rest.request("GET", `${base(ns)}/${encodeURIComponent(name)}`);
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
      const site = Site.parse(raw);
      return {
        ownerEmail: site.spec?.owner?.email ?? null,
        welcomedAt: site.status?.owner?.welcomedAt ?? null,
        url: site.status?.url ?? null,
        conditions: site.status?.conditions ?? [],
      };
    },
    async domainInUse(domain) {
      let used = false;
      await rest.list(base(namespace), (raw) => {
        const site = Site.safeParse(raw);
        if (site.success && (site.data.spec?.domain === domain || (site.data.spec?.aliases ?? []).includes(domain))) used = true;
      });
      return used;
    },
  };
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}
