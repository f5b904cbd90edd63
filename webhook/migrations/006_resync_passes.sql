-- One row per re-sync pass (a re-read of every subscription Stripe lists): replicas take turns
-- through an advisory lock and skip a pass while the last one finished less than an interval ago.
CREATE TABLE resync_passes (
  id              bigserial PRIMARY KEY,
  started_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz,
  listed          integer NOT NULL DEFAULT 0,
  reviews         integer NOT NULL DEFAULT 0,
  unlisted        integer NOT NULL DEFAULT 0,
  error           text
);
CREATE INDEX resync_passes_finished ON resync_passes (finished_at DESC) WHERE finished_at IS NOT NULL;

-- What each subscription looked like (a hash of the fields an order depends on) when a pass last
-- queued its re-read: a pass reads again only what changed since, whether or not an event came.
CREATE TABLE resync_fingerprints (
  subscription_id text PRIMARY KEY,
  fingerprint     text NOT NULL,
  reviewed_at     timestamptz NOT NULL DEFAULT now()
);
