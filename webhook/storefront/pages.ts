// Pure: the shop's pages as HTML strings. Forms work without JavaScript; every input has a
// label, every group a legend; problems are listed at the top (linked to their fields) and next
// to each field.
import type { CatalogKit } from "../catalog.ts";
import type { Problem, Quote } from "./cart.ts";
import { esc, h, money, page, raw, type Branding, type Html } from "./html.ts";
import { OPTION_KINDS, priceFor, type Offer, type OfferProduct, type OptionKind, type Period } from "./offer.ts";
import type { Progress } from "./progress.ts";

const KIND_TITLES: Record<OptionKind, string> = {
  addon: "Add-on features",
  theme: "Premium themes",
  users: "More users",
  support: "Support upgrades",
  https: "HTTPS",
};

const PER: Record<string, string> = { month: "/ month", year: "/ year", once: "once" };

function priceText(product: OfferProduct, period: Period, currency: string): string {
  const price = priceFor(product, period);
  return price === undefined ? "not available" : `${money(price.amount, currency)} ${PER[price.interval]}`;
}

/** Features by the name the shop sells them under (machine names only for those it does not sell). */
function featureNames(offer: Offer, features: readonly string[]): string {
  const named = new Map(offer.options.addon.flatMap((o) => (priceFor(o, "month") ?? priceFor(o, "year"))?.item.features?.map((f) => [f, o.name] as const) ?? []));
  return features.map((f) => named.get(f) ?? f).join(", ");
}

function supportText(kit: CatalogKit): string {
  return `${kit.support.tier} support, ${kit.support.hours === "24x7" ? "24 hours, 7 days" : "business hours (8x5)"}, by ${kit.support.channels.join(", ")}`;
}

export function catalogPage(brand: Branding, offer: Offer): string {
  const kits = offer.kits.map(
    (kit) => h`<section class="kit" aria-labelledby="kit-${kit.key}">
<h3 id="kit-${kit.key}">${kit.name}</h3>
<p class="muted">${kit.description ?? ""}</p>
<p class="price">${priceText(kit, "month", offer.currency)}</p>
<p class="muted">or ${priceText(kit, "year", offer.currency)}</p>
<ul>
<li>${kit.kit.userQuota} users included</li>
<li>Features: ${featureNames(offer, kit.kit.features)}</li>
${kit.kit.theme === undefined ? null : h`<li>Theme: ${kit.kit.theme}</li>`}
<li>${supportText(kit.kit)}</li>
<li>HTTPS ${kit.kit.https === "Required" ? "on every visit" : kit.kit.https === "Enabled" ? "available" : "not included"}</li>
</ul>
<p><a class="button" href="${brand.prefix}/cart?kit=${kit.key}">Choose ${kit.name}</a></p>
</section>`,
  );
  const options = OPTION_KINDS.filter((kind) => offer.options[kind].length > 0).map(
    (kind) => h`<h2>${KIND_TITLES[kind]}</h2>
<table><thead><tr><th scope="col">Option</th><th scope="col">What you get</th><th scope="col" class="num">Monthly billing</th><th scope="col" class="num">Yearly billing</th></tr></thead>
<tbody>${offer.options[kind].map(
      (o) => h`<tr><th scope="row">${o.name}</th><td>${o.description ?? ""}</td><td class="num">${priceText(o, "month", offer.currency)}</td><td class="num">${priceText(o, "year", offer.currency)}</td></tr>`,
    )}</tbody></table>`,
  );
  return page(brand, {
    title: "Plans",
    body: h`<h1>Your own Open Atrium site, hosted for you</h1>
<p>Pick a kit, add what you need, choose your address. We install and run the site; you get a welcome mail with your login.</p>
<h2>Kits</h2>
<div class="kits">${kits}</div>
${options}
<p class="actions"><a class="button" href="${brand.prefix}/cart">Configure your site</a></p>`,
  });
}

export interface CartView {
  quote: Quote;
  csrfToken: string;
  /** Result of the live availability check; null when no valid domain was entered. */
  available: boolean | null;
  dnsTarget: string;
  notice: string | null;
}

export function cartPage(brand: Branding, offer: Offer, view: CartView): string {
  const { quote } = view;
  const c = quote.choice;
  const problemsOf = (field: string) => quote.problems.filter((p) => p.field === field);
  const invalid = (field: string) => (problemsOf(field).length > 0 ? raw(` aria-invalid="true" aria-describedby="${esc(field)}-problem"`) : raw(""));
  const fieldProblems = (field: string) => {
    const found = problemsOf(field);
    return found.length === 0 ? null : h`<p class="field-problem" id="${field}-problem">${found.map((p) => h`${p.message}. `)}</p>`;
  };
  // Fieldsets point at their problem; inputs are also marked invalid.
  const describedBy = (field: string) => (problemsOf(field).length > 0 ? raw(` aria-describedby="${esc(field)}-problem"`) : raw(""));
  const checked = (on: boolean) => raw(on ? " checked" : "");
  const radio = (name: string, value: string, on: boolean, label: Html | string, hint: string | null) =>
    h`<label class="choice"><input type="radio" name="${name}" value="${value}"${checked(on)}> ${label}${hint === null ? null : h`<small>${hint}</small>`}</label>`;

  const period = h`<fieldset id="period"${describedBy("period")}><legend>Billing</legend>
${radio("period", "month", c.period === "month", "Monthly", null)}
${radio("period", "year", c.period === "year", "Yearly", "two months free")}
${fieldProblems("period")}</fieldset>`;

  const kits = h`<fieldset id="kit"${describedBy("kit")}><legend>Kit</legend>
${offer.kits.map((k) => radio("kit", k.key, c.kit === k.key, h`<strong>${k.name}</strong> · ${priceText(k, c.period, offer.currency)}`, `${k.kit.userQuota} users, ${k.kit.features.length} features, ${supportText(k.kit)}`))}
${fieldProblems("kit")}</fieldset>`;

  const addons = offer.options.addon.length === 0 ? null : h`<fieldset id="addon"${describedBy("addon")}><legend>Add-on features</legend>
${offer.options.addon.map((o) => {
    // What the chosen kit already has cannot be bought again: shown, but not offered.
    const features = priceFor(o, c.period)?.item.features ?? [];
    const included = quote.kit !== undefined && features.length > 0 && features.every((f) => quote.kit?.kit.features.includes(f));
    return included
      ? h`<label class="choice muted"><input type="checkbox" name="addon" value="${o.key}" checked disabled> ${o.name} · included in ${quote.kit?.name}</label>`
      : h`<label class="choice"><input type="checkbox" name="addon" value="${o.key}"${checked(c.addons.includes(o.key))}> ${o.name} · ${priceText(o, c.period, offer.currency)}<small>${o.description ?? ""}</small></label>`;
  })}
${fieldProblems("addon")}</fieldset>`;

  const single = (kind: "theme" | "support" | "https", none: string) =>
    offer.options[kind].length === 0
      ? null
      : h`<fieldset id="${kind}"${describedBy(kind)}><legend>${KIND_TITLES[kind]}</legend>
${radio(kind, "", c[kind] === "", none, null)}
${offer.options[kind].map((o) => radio(kind, o.key, c[kind] === o.key, h`${o.name} · ${priceText(o, c.period, offer.currency)}`, o.description))}
${fieldProblems(kind)}</fieldset>`;

  const users = offer.options.users.length === 0 ? null : h`<fieldset><legend>More users</legend>
${offer.options.users.map((o) => {
      const name = `qty_${o.key}`;
      return h`<p><label for="${name}">${o.name} (${priceText(o, c.period, offer.currency)} each)</label><br>
<input type="number" id="${name}" name="${name}" min="0" max="10000" step="1" inputmode="numeric" value="${c.quantities[o.key] ?? 0}"${invalid(name)}>
${fieldProblems(name)}</p>`;
    })}</fieldset>`;

  const availability =
    view.available === null || quote.domain === null
      ? null
      : view.available
        ? h`<p class="available" role="status">${quote.domain} is available.</p>`
        : h`<p class="taken" role="status">${quote.domain} is already taken; choose another.</p>`;
  const dns =
    c.site === "own" && quote.domain !== null
      ? h`<p class="notice">Create this DNS record at your DNS provider: <code>${quote.domain}. CNAME ${view.dnsTarget}.</code></p>`
      : null;
  const domain = h`<fieldset id="site"><legend>Address</legend>
${radio("site", "subdomain", c.site === "subdomain", "A subdomain of ours", null)}
<p><label for="subdomain">Subdomain</label><br><input type="text" id="subdomain" name="subdomain" value="${c.subdomain}" autocomplete="off" spellcheck="false" maxlength="63"${invalid("subdomain")}> <span>.${offer.managedZone}</span>
${fieldProblems("subdomain")}</p>
${radio("site", "own", c.site === "own", "Your own domain", null)}
<p><label for="domain">Your domain</label><br><input type="text" id="domain" name="domain" value="${c.domain}" autocomplete="off" spellcheck="false" maxlength="253" placeholder="intranet.example.com"${invalid("domain")}>
${fieldProblems("domain")}</p>
${availability}${dns}
<p><button type="submit" class="secondary" formaction="${brand.prefix}/cart">Check address and update total</button></p>
</fieldset>`;

  const lines = quote.lines.map(
    (l) => h`<tr><td>${l.product.name}${l.quantity > 1 ? ` × ${l.quantity}` : ""}</td><td class="num">${money(l.amount * l.quantity, offer.currency)} ${PER[l.interval]}</td></tr>`,
  );
  const summary = h`<aside class="summary" aria-labelledby="summary-title"><h2 id="summary-title">Your order</h2>
${quote.lines.length === 0 ? h`<p>Choose a kit to see the total.</p>` : h`<table><tbody>${lines}</tbody></table>
<p class="total">${money(quote.recurringTotal, offer.currency)} ${PER[c.period]}</p>
${quote.oneTimeTotal > 0 ? h`<p>plus ${money(quote.oneTimeTotal, offer.currency)} once</p>` : null}`}
${quote.parts === null ? null : h`<p class="muted">${quote.parts.userQuota} users · ${quote.parts.features.length} features · ${quote.parts.support.tier} support</p>`}
<p class="actions"><button type="submit" class="secondary" formaction="${brand.prefix}/cart">Update total</button>
<button type="submit" formaction="${brand.prefix}/checkout">Checkout</button></p>
<p class="muted">You pay on Stripe's secure page; your site is set up once Stripe confirms the payment.</p></aside>`;

  return page(brand, {
    title: "Configure and buy",
    body: h`<h1>Configure your site</h1>
${view.notice === null ? null : h`<p class="notice" role="status">${view.notice}</p>`}
${problemSummary(quote.problems)}
<form method="post" action="${brand.prefix}/checkout" class="layout">
<input type="hidden" name="csrf" value="${view.csrfToken}">
<div>${period}${kits}${addons}${single("theme", "The kit's theme")}${users}${single("support", "The kit's support")}${single("https", "As the kit has it")}${domain}</div>
${summary}
</form>`,
  });
}

function problemSummary(problems: readonly Problem[]): Html | null {
  if (problems.length === 0) return null;
  return h`<div class="problems" role="alert" aria-labelledby="problems-title"><h2 id="problems-title">Please check your order</h2><ul>
${problems.map((p) => (p.field === "form" ? h`<li>${p.message}</li>` : h`<li><a href="#${p.field}">${p.message}</a></li>`))}
</ul></div>`;
}

export interface OrderView {
  progress: Progress;
  csrfToken: string;
  /** Where the "manage subscription" form posts; null before the order is known. */
  portalAction: string | null;
}

const STEP_STATE: Record<string, string> = { done: "Done", current: "In progress", waiting: "Next", failed: "Stopped" };

export function orderPage(brand: Branding, view: OrderView): string {
  const { progress } = view;
  return page(brand, {
    title: progress.headline,
    ...(progress.settled ? {} : { refresh: 3 }),
    body: h`<h1>${progress.headline}</h1>
${progress.siteUrl === null ? null : h`<p class="notice">Your site: <a href="${progress.siteUrl}">${progress.siteUrl}</a></p>`}
${progress.problem === null ? null : h`<p class="problems" role="alert">${progress.problem}</p>`}
<ol class="steps" aria-label="Progress">${progress.steps.map(
      (s) => h`<li class="${s.state}"${s.state === "current" ? raw(' aria-current="step"') : null}><span class="state">${STEP_STATE[s.state] ?? s.state}</span> ${s.label}${s.detail === null ? null : h` <span class="muted">(${s.detail})</span>`}</li>`,
    )}</ol>
${progress.settled ? null : h`<p class="muted" role="status">This page refreshes itself every few seconds.</p>`}
${view.portalAction === null ? null : h`<form method="post" action="${view.portalAction}"><input type="hidden" name="csrf" value="${view.csrfToken}">
<button type="submit" class="secondary">Manage subscription</button> <span class="muted">(invoices, payment method, cancel: on Stripe's customer portal)</span></form>`}`,
  });
}

export function messagePage(brand: Branding, title: string, message: string, back: { href: string; label: string } | null): string {
  return page(brand, { title, body: h`<h1>${title}</h1><p role="alert">${message}</p>${back === null ? null : h`<p><a href="${back.href}">${back.label}</a></p>`}` });
}
