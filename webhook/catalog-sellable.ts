// What the catalog can sell, per install profile: the features and themes a server's platforms
// must carry (check-server judges it with reconcilers/aegir/conformance/checks.ts).
import type { Sellable } from "../reconcilers/aegir/conformance/checks.ts";
import type { Catalog } from "./catalog.ts";

/** Kits sell on their profile; add-on items (no kit) on every profile a kit uses. */
export function sellableByProfile(catalog: Catalog): Sellable {
  const sellable: Sellable = new Map();
  const kits = Object.values(catalog.kits);
  const addOns = Object.values(catalog.items).filter((item) => item.kit === undefined);
  for (const kit of kits) {
    const entry = sellable.get(kit.profile) ?? { features: new Set<string>(), themes: new Set<string>() };
    for (const source of [kit, ...addOns]) {
      for (const f of source.features ?? []) entry.features.add(f);
      if (source.theme !== undefined) entry.themes.add(source.theme);
    }
    sellable.set(kit.profile, entry);
  }
  return sellable;
}

