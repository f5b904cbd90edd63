// Decodes a Stripe API request body: application/x-www-form-urlencoded with the bracket
// notation the SDK writes (`line_items[0][price]=...`, `metadata[subdomain]=acme`).
export type FormValue = string | FormValue[] | { [key: string]: FormValue };

export function decodeStripeForm(text: string): Record<string, FormValue> {
  const root: Record<string, FormValue> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    const path = name.split(/\[|\]\[|\]$/).filter((p, i) => i === 0 || p !== "");
    let node: Record<string, FormValue> | FormValue[] = root;
    for (let i = 0; i < path.length; i++) {
      const key = path[i] as string;
      const last = i === path.length - 1;
      const nextIsIndex = !last && /^\d+$/.test(path[i + 1] as string);
      const slot = node as Record<string, FormValue>;
      if (last) slot[key] = value;
      else {
        slot[key] ??= nextIsIndex ? [] : {};
        node = slot[key] as Record<string, FormValue> | FormValue[];
      }
    }
  }
  return root;
}

/** The string at `key`, or undefined when absent or not a string. */
export function str(form: Record<string, FormValue> | undefined, key: string): string | undefined {
  const value = form?.[key];
  return typeof value === "string" ? value : undefined;
}

export function obj(form: Record<string, FormValue> | undefined, key: string): Record<string, FormValue> | undefined {
  const value = form?.[key];
  return value !== undefined && typeof value === "object" && !Array.isArray(value) ? value : undefined;
}

export function strings(form: Record<string, FormValue> | undefined, key: string): Record<string, string> {
  return Object.fromEntries(Object.entries(obj(form, key) ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"));
}

export function list(form: Record<string, FormValue> | undefined, key: string): Record<string, FormValue>[] {
  const value = form?.[key];
  const items = Array.isArray(value) ? value : value !== undefined && typeof value === "object" ? Object.values(value) : [];
  return items.filter((v): v is Record<string, FormValue> => typeof v === "object" && !Array.isArray(v));
}
