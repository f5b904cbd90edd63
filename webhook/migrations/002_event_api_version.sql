-- The API version of the endpoint that sent the event (event.api_version): payload shapes follow it.
ALTER TABLE stripe_events ADD COLUMN api_version text;
