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

const FEATURE_CONDITIONS = ["FeaturesApplied", "ThemeApplied", "QuotaEnforced", "SupportAccessReady"];

export function orderProgress(order: LedgerOrder | null, site: SiteStatus | null): Progress {
  const is = (type: string) => site?.conditions.find((c) => c.type === type)?.status === "True";
  const paid = order !== null && order.provisioned;
  const installed = paid && is("Installed");
  const featured = installed && FEATURE_CONDITIONS.every((t) => site?.conditions.find((c) => c.type === t)?.status !== "False") && is("FeaturesApplied");
  const mailTo = site?.ownerEmail ?? order?.customerEmail ?? null;
  const welcomed = installed && site?.welcomedAt != null;
  const ready = paid && is("Ready");
  const siteUrl = ready ? (site?.url ?? (order?.domain == null ? null : `https://${order.domain}`)) : null;

  const states = [paid, installed, featured, welcomed];
  const firstOpen = states.indexOf(false);
  const stepState = (i: number): StepState => (states[i] ? "done" : i === firstOpen ? "current" : "waiting");
  const steps: Step[] = [
    { label: "Payment confirmed", state: stepState(0), detail: paid ? null : "waiting for Stripe to confirm your payment" },
    { label: "Site being installed", state: stepState(1), detail: order?.domain ?? null },
    { label: "Features, theme and users set up", state: stepState(2), detail: null },
    { label: "Welcome mail sent", state: stepState(3), detail: welcomed && mailTo !== null ? `sent to ${mailTo}` : mailTo === null ? null : `will be sent to ${mailTo}` },
  ];

  if (order?.state === "parked") {
    const current = steps.find((s) => s.state === "current");
    if (current !== undefined) current.state = "failed";
    const contact = order.customerEmail === null ? "" : ` We will write to ${order.customerEmail}.`;
    return { headline: "We could not set up your site yet", steps, settled: true, siteUrl: null, problem: `Your payment is safe; our team has been told about the problem.${contact}` };
  }
  if (order !== null && (order.state === "suspended" || order.state === "ended")) {
    return { headline: order.state === "suspended" ? "Your site is suspended" : "Your subscription has ended", steps, settled: true, siteUrl: null, problem: null };
  }
  if (ready) return { headline: "Your site is ready", steps, settled: true, siteUrl, problem: null };
  return { headline: paid ? "Setting up your site" : "Thank you for your order", steps, settled: false, siteUrl, problem: null };
}
