// Accept header negotiation: the API server picks a representation from media type parameters
// (`as=Table;g=meta.k8s.io;v=v1`, `as=APIGroupDiscoveryList;g=apidiscovery.k8s.io;v=v2`).

export interface MediaRange {
  type: string;
  params: Record<string, string>;
}

function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [{ type: "*/*", params: {} }];
  return header.split(",").map((range) => {
    const [type = "", ...params] = range.split(";").map((p) => p.trim());
    return {
      type: type.toLowerCase(),
      params: Object.fromEntries(
        params.map((p) => {
          const eq = p.indexOf("=");
          return eq === -1 ? [p, ""] : [p.slice(0, eq).trim(), p.slice(eq + 1).trim()];
        }),
      ),
    };
  });
}

const isJson = (r: MediaRange) => r.type === "application/json" || r.type === "*/*" || r.type === "application/*";

/** The first acceptable `as=` representation of the given group, in the client's order. */
function firstAs(header: string | undefined, group: string, kinds: readonly string[]): { as: string; version: string } | undefined {
  for (const range of parseAccept(header)) {
    if (!isJson(range)) continue;
    const { as, g, v } = range.params;
    if (as === undefined) return undefined;
    if (g === group && v !== undefined && kinds.includes(as)) return { as, version: v };
  }
  return undefined;
}

/** `v2` or `v2beta1` when the client asked for aggregated discovery before plain JSON. */
export function aggregatedDiscoveryVersion(header: string | undefined): "v2" | "v2beta1" | undefined {
  const wanted = firstAs(header, "apidiscovery.k8s.io", ["APIGroupDiscoveryList"]);
  return wanted?.version === "v2" || wanted?.version === "v2beta1" ? wanted.version : undefined;
}

export type Representation = "object" | "Table" | "PartialObjectMetadata";

export function representation(header: string | undefined): Representation {
  const wanted = firstAs(header, "meta.k8s.io", ["Table", "PartialObjectMetadata", "PartialObjectMetadataList"]);
  if (wanted === undefined || (wanted.version !== "v1" && wanted.version !== "v1beta1")) return "object";
  return wanted.as === "Table" ? "Table" : "PartialObjectMetadata";
}

export const TABLE_CONTENT_TYPE = "application/json;as=Table;v=v1;g=meta.k8s.io";
