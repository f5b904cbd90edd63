-- The seller policies' facts: disputes and refunds of an order's payments, as Stripe reports them
-- (re-read for each charge event, never taken from the event), and since when an order's payment
-- collection has been paused.

CREATE TABLE order_disputes (
  dispute_id      text PRIMARY KEY,
  subscription_id text NOT NULL,
  charge_id       text NOT NULL,
  status          text NOT NULL,
  reason          text,
  amount          bigint NOT NULL,
  currency        text NOT NULL,
  opened_at       timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_disputes_subscription ON order_disputes (subscription_id);

-- A refund without a cancellation changes nothing else: it is only recorded.
CREATE TABLE order_refunds (
  refund_id       text PRIMARY KEY,
  subscription_id text NOT NULL,
  charge_id       text NOT NULL,
  amount          bigint NOT NULL,
  currency        text NOT NULL,
  status          text NOT NULL,
  refunded_at     timestamptz NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_refunds_subscription ON order_refunds (subscription_id);

ALTER TABLE orders ADD COLUMN collection_paused_since timestamptz;
