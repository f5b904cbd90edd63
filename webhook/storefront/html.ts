// Pure HTML helpers for the shop's server-rendered pages: escaping, money, the page frame
// (landmarks, skip link, the seller's branding).

/** Escapes text for HTML content and double-quoted attribute values. */
export function esc(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A trusted fragment of HTML (already escaped). */
export interface Html {
  readonly html: string;
}

export const raw = (html: string): Html => ({ html });

/** Tagged template: interpolated strings are escaped, Html fragments and arrays of them are not. */
export function h(strings: TemplateStringsArray, ...values: (string | number | Html | readonly Html[] | null | undefined | false)[]): Html {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    if (Array.isArray(value)) out += (value as readonly Html[]).map((v) => v.html).join("");
    else if (value !== null && value !== undefined && value !== false) out += typeof value === "object" ? (value as Html).html : esc(value);
    out += strings[i + 1] ?? "";
  });
  return raw(out);
}

/** Amounts are in the currency's smallest unit (cents; whole yen). */
export function money(amount: number, currency: string): string {
  const format = new Intl.NumberFormat("en", { style: "currency", currency: currency.toUpperCase() });
  return format.format(amount / 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2));
}

export interface Branding {
  shopName: string;
  /** Checked for contrast at start-up; goes into the stylesheet (the CSP allows no inline style). */
  accent: string;
  prefix: string;
}

export interface PageOptions {
  title: string;
  body: Html;
  /** Seconds: the page reloads itself (progress without JavaScript). */
  refresh?: number;
}

export function page(brand: Branding, options: PageOptions): string {
  const { prefix } = brand;
  return `<!doctype html>
${h`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${options.refresh === undefined ? null : raw(`<meta http-equiv="refresh" content="${options.refresh}">`)}
<title>${options.title} · ${brand.shopName}</title>
<link rel="stylesheet" href="${prefix}/style.css">
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="${prefix}/">${brand.shopName}</a>
<nav aria-label="Shop"><ul><li><a href="${prefix}/">Plans</a></li><li><a href="${prefix}/cart">Configure and buy</a></li></ul></nav></header>
<main id="main" tabindex="-1">${options.body}</main>
<footer><p>${brand.shopName} · hosted Open Atrium sites · prices exclude tax</p></footer>
</body></html>`.html}
`;
}
