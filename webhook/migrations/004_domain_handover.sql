-- A domain passes from an ended order to a new one (with its HostedSite when the same customer
-- takes it over). `domain_released_to` marks the order that gave it away: it never writes its site
-- again. `wanted_domain` is the domain a parked order waits for, so it is reviewed when the
-- holder ends.
ALTER TABLE orders ADD COLUMN domain_released_to text;
ALTER TABLE orders ADD COLUMN wanted_domain text;
CREATE INDEX orders_wanted_domain ON orders (wanted_domain) WHERE wanted_domain IS NOT NULL;
