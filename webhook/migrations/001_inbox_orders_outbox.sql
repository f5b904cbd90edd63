-- Inbox of verified Stripe events, the order ledger, and the outbox the relay applies to Kubernetes.

-- One row per Stripe event id: a redelivery is a no-op (INSERT ... ON CONFLICT DO NOTHING).
-- `kind` = 'timer' rows are scheduled re-evaluations (end of a grace period), not Stripe events.
CREATE TABLE stripe_events (
  id                  text PRIMARY KEY,
  kind                text NOT NULL DEFAULT 'stripe' CHECK (kind IN ('stripe', 'timer')),
  type                text NOT NULL,
  subscription_id     text NOT NULL,
  checkout_session_id text,
  livemode            boolean NOT NULL DEFAULT false,
  event_created_at    timestamptz,
  payload             jsonb NOT NULL,
  received_at         timestamptz NOT NULL DEFAULT now(),
  state               text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'processed', 'dead')),
  attempts            integer NOT NULL DEFAULT 0,
  next_attempt_at     timestamptz NOT NULL DEFAULT now(),
  last_error          text,
  processed_at        timestamptz
);
CREATE INDEX stripe_events_due ON stripe_events (next_attempt_at) WHERE state = 'pending';
CREATE INDEX stripe_events_pending_by_subscription ON stripe_events (subscription_id) WHERE state = 'pending';

-- The row a worker locks (FOR UPDATE SKIP LOCKED) to own a subscription while it processes that
-- subscription's events. Insert-only, so receiving an event never waits for a worker.
CREATE TABLE subscription_locks (
  subscription_id text PRIMARY KEY
);

CREATE TABLE orders (
  subscription_id     text PRIMARY KEY,
  customer_id         text,
  customer_email      text,
  checkout_session_id text UNIQUE,
  domain              text UNIQUE,
  options             jsonb,
  site_namespace      text NOT NULL,
  site_name           text NOT NULL,
  state               text NOT NULL CHECK (state IN ('awaiting_payment', 'active', 'past_due', 'suspended', 'ended', 'parked')),
  reason              text,
  subscription_status text,
  past_due_since      timestamptz,
  provisioned         boolean NOT NULL DEFAULT false,
  last_event_id       text,
  last_event_type     text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_state ON orders (state);

-- Latest desired HostedSite per subscription. `version` grows with every change; the relay applies
-- the newest manifest and records `applied_version`, so an older manifest never overwrites a newer one.
CREATE TABLE outbox (
  subscription_id text PRIMARY KEY REFERENCES orders (subscription_id),
  version         bigint NOT NULL DEFAULT 1,
  manifest        jsonb NOT NULL,
  applied_version bigint NOT NULL DEFAULT 0,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  leased_until    timestamptz,
  last_error      text,
  applied_at      timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE applied_version < version;
