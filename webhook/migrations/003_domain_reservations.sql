-- Domains held for open Checkout Sessions of the storefront, so that two customers cannot both pay
-- for the same free address. A row holds its domain until `expires_at` (the session's lifetime plus
-- time for its completion to arrive); a paid order then holds the domain in orders.domain.
CREATE TABLE domain_reservations (
  domain              text PRIMARY KEY,
  -- A hash of the browser's form-token cookie: the same browser may check out again.
  holder              text NOT NULL,
  checkout_session_id text UNIQUE,
  expires_at          timestamptz NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX domain_reservations_expiry ON domain_reservations (expires_at);
