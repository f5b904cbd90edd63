-- For a demo order, the HostedSite spec its HostedSpace was made from (the outbox holds only the
-- space): a parked decision starts from it, as a parked site's starts from its last spec, so the
-- space keeps following payment while the plan cannot be mapped.
ALTER TABLE outbox ADD COLUMN demo_spec jsonb;
