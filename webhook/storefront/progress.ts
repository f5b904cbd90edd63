// Pure: an order's progress as the customer sees it, from the order ledger and the HostedSite's
// status. Says nothing about Aegir (servers, platforms, tasks, drush): only what the customer
// bought and where it stands.
import type { OrderState } from "../order-decision.ts";

export interface LedgerOrder {
  state: OrderState;
  provisioned: boolean;
  customerEmail: string | null;
  domain: string | null;
  siteNamespace: string;
  siteName: string;
  customerId: string | null;
}

export interface SiteStatus {
  ownerEmail: string | null;
  welcomedAt: string | null;
  url: string | null;
  conditions: { type: string; status: string; reason?: string | undefined }[];
}

export type StepState = "done" | "current" | "waiting" | "failed";

export interface Step {
  label: string;
  state: StepState;
  detail: string | null;
}

export interface Progress {
  headline: string;
  steps: Step[];
  /** Nothing more will change by itself: the page stops refreshing. */
  settled: boolean;
  siteUrl: string | null;
  /** A problem the customer should know about; never an internal reason. */
  problem: string | null;
}

/** Each step's label reads right after its state ("Done: Site installed", "In progress: Installing your site"). */
const STEP_LABELS: readonly Record<StepState, string>[] = [
  { done: "Payment confirmed", current: "Waiting for Stripe to confirm your payment", waiting: "Confirm your payment", failed: "Payment not confirmed" },
  { done: "Site installed", current: "Installing your site", waiting: "Install your site", failed: "Site not installed" },
  { done: "Features, theme and users set up", current: "Setting up features, theme and users", waiting: "Set up features, theme and users", failed: "Features, theme and users not set up" },
  { done: "Welcome mail sent", current: "Sending the welcome mail", waiting: "Send the welcome mail", failed: "Welcome mail not sent" },
];

const FEATURE_CONDITIONS = ["FeaturesApplied", "ThemeApplied", "QuotaEnforced", "SupportAccessReady"];

export function orderProgress(order: LedgerOrder | null, site: SiteStatus | null): Progress {
  const is = (type: string) => site?.conditions.find((c) => c.type === type)?.status === "True";
  const parked = order?.state === "parked";
  // A parked order was paid for; what stopped is setting up (or changing) its site.
  const paid = order !== null && (order.provisioned || parked);
  const provisioned = order?.provisioned === true;
  const installed = provisioned && is("Installed");
  const featured = installed && FEATURE_CONDITIONS.every((t) => site?.conditions.find((c) => c.type === t)?.status !== "False") && is("FeaturesApplied");
  const mailTo = site?.ownerEmail ?? order?.customerEmail ?? null;
  const welcomed = installed && site?.welcomedAt != null;
  const ready = provisioned && is("Ready");
  const siteUrl = ready ? (site?.url ?? (order?.domain == null ? null : `https://${order.domain}`)) : null;

  const reached = [paid, installed, featured, welcomed];
  const firstOpen = reached.indexOf(false);
  // A parked order stops at its first open step.
  const stepState = (i: number): StepState => (reached[i] ? "done" : i !== firstOpen ? "waiting" : parked ? "failed" : "current");
  const step = (i: number, detail: string | null): Step => {
    const state = stepState(i);
    return { label: (STEP_LABELS[i] as Record<StepState, string>)[state], state, detail };
  };
  const steps: Step[] = [
    step(0, null),
    step(1, order?.domain ?? null),
    step(2, null),
    step(3, welcomed && mailTo !== null ? `sent to ${mailTo}` : mailTo === null ? null : `will be sent to ${mailTo}`),
  ];

  if (parked) {
    const contact = order.customerEmail === null ? "" : ` We will write to ${order.customerEmail}.`;
    return { headline: "We could not set up your site yet", steps, settled: true, siteUrl: null, problem: `Your payment is safe; our team has been told about the problem.${contact}` };
  }
  if (order !== null && (order.state === "suspended" || order.state === "ended")) {
    return { headline: order.state === "suspended" ? "Your site is suspended" : "Your subscription has ended", steps, settled: true, siteUrl: null, problem: null };
  }
  if (ready) return { headline: "Your site is ready", steps, settled: true, siteUrl, problem: null };
  return { headline: paid ? "Setting up your site" : "Thank you for your order", steps, settled: false, siteUrl, problem: null };
}
