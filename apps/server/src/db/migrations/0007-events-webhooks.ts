// Events and webhooks (issue 6). Every change integrators may hear of is an
// event row written in the transaction that made the change; a dispatcher
// (any instance, FOR UPDATE SKIP LOCKED) fans each event out once to the
// matching webhooks (a delivery row each) and e-mail notifications (outbox
// jobs), in one transaction, so a crash repeats none and loses none.
export default `
CREATE TABLE events (
  id uuid PRIMARY KEY,
  -- The order events were written in (two changes in one millisecond stay
  -- in order): the dispatcher hands them to subscribers by it.
  seq bigint GENERATED ALWAYS AS IDENTITY,
  org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  -- No foreign key: project.deleted must outlive its project.
  project_id uuid,
  type text NOT NULL CHECK (type ~ '^[a-z_]+\\.[a-z_]+$'),
  -- The object the event is about (a feedback id for feedback.*).
  subject_id uuid,
  -- The payload's data. NULL for feedback.created written by ingestion's
  -- batch insert: the dispatcher fills it in from the row.
  data jsonb,
  created_at timestamptz NOT NULL,
  dispatched_at timestamptz
);
CREATE INDEX events_pending_idx ON events (seq) WHERE dispatched_at IS NULL;
CREATE INDEX events_org_created_idx ON events (org_id, created_at);
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
CREATE POLICY events_tenant ON events FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

-- Wakes the dispatchers of every instance at commit.
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('parley_events', '');
  RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION events_notify();

-- The dispatcher's claim across organizations: locks up to p_limit pending
-- events for the caller's transaction (skipping those another instance holds)
-- and names their organizations; the caller then works each organization in
-- its own tenant scope, in the same transaction.
CREATE FUNCTION claim_pending_events(p_limit integer)
  RETURNS TABLE (id uuid, org_id uuid)
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT id, org_id FROM events WHERE dispatched_at IS NULL ORDER BY seq LIMIT p_limit FOR UPDATE SKIP LOCKED $$;
REVOKE ALL ON FUNCTION claim_pending_events(integer) FROM PUBLIC;

CREATE TABLE webhooks (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  -- NULL: every project of the organization.
  project_id uuid,
  url text NOT NULL CHECK (length(url) <= 2048),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 200),
  events text[] NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  -- Standard Webhooks secrets (whsec_...), sealed under the organization's key.
  secret_enc bytea NOT NULL,
  -- After a rotation the old secret signs too until it expires.
  previous_secret_enc bytea,
  previous_secret_expires_at timestamptz,
  created_by uuid REFERENCES users ON DELETE SET NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  version integer NOT NULL DEFAULT 1,
  -- When the owner was last told that deliveries failed for good (one mail a day at most).
  failure_notified_at timestamptz,
  FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE
);
CREATE INDEX webhooks_org_idx ON webhooks (org_id, created_at);
ALTER TABLE webhooks ENABLE ROW LEVEL SECURITY;
CREATE POLICY webhooks_tenant ON webhooks FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

-- One per event and subscriber (the unique key makes "exactly once" a
-- constraint); its id is the webhook-id header receivers deduplicate by.
CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  webhook_id uuid NOT NULL REFERENCES webhooks ON DELETE CASCADE,
  event_id uuid NOT NULL REFERENCES events ON DELETE CASCADE,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  -- Attempts claimed so far (an instance that dies mid-attempt leaves one unrecorded).
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  -- The next attempt was asked for by a person (redeliver, test event): it
  -- goes out whatever the status, and even while the webhook is disabled.
  manual boolean NOT NULL DEFAULT false,
  -- Retries stop 24 hours after this.
  first_attempt_at timestamptz,
  -- A claim by one instance; lapses if that instance dies mid-delivery.
  locked_until timestamptz,
  created_at timestamptz NOT NULL,
  completed_at timestamptz,
  UNIQUE (webhook_id, event_id)
);
-- Each webhook's due deliveries, oldest first, and its attempts under way
-- (leased rows: few), for the claim's per-webhook share.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (webhook_id, next_attempt_at) WHERE status = 'pending' OR manual;
CREATE INDEX webhook_deliveries_leased_idx ON webhook_deliveries (webhook_id) WHERE locked_until IS NOT NULL;
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
-- Housekeeping and the cascade from events look deliveries up by event.
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY webhook_deliveries_tenant ON webhook_deliveries FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

-- Every attempt over the wire, for the delivery log.
CREATE TABLE webhook_attempts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  delivery_id uuid NOT NULL REFERENCES webhook_deliveries ON DELETE CASCADE,
  attempt integer NOT NULL,
  at timestamptz NOT NULL,
  duration_ms integer,
  status_code integer,
  -- The response's status line and headers, at most 4 KB.
  response_head text CHECK (length(response_head) <= 4096),
  error text CHECK (length(error) <= 1000),
  -- Started by someone pressing "redeliver".
  manual boolean NOT NULL DEFAULT false
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempt);
ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
CREATE POLICY webhook_attempts_tenant ON webhook_attempts FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

-- The delivery queue's claim across organizations (any instance): leases up
-- to p_limit due deliveries until p_lease_until, skipping those another
-- instance holds, and counts the attempt. Each webhook gets at most
-- p_per_webhook attempts under way at once, across instances, so a receiver
-- that hangs or floods cannot take every slot: the others' deliveries go on.
-- A lease that lapses (its instance died mid-delivery) makes the delivery due
-- again for everyone. Deliveries of a disabled webhook wait, unless a person
-- asked for the attempt.
CREATE FUNCTION claim_webhook_deliveries(p_now timestamptz, p_lease_until timestamptz, p_limit integer, p_per_webhook integer)
  RETURNS TABLE (id uuid, org_id uuid, webhook_id uuid, attempts integer, manual boolean)
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$
  WITH due AS (
    SELECT x.id, x.next_attempt_at
      FROM webhooks w
     CROSS JOIN LATERAL (
       SELECT c.id, c.next_attempt_at FROM webhook_deliveries c
        WHERE c.webhook_id = w.id AND (c.status = 'pending' OR c.manual) AND (c.manual OR w.enabled)
          AND c.next_attempt_at <= p_now AND (c.locked_until IS NULL OR c.locked_until < p_now)
        ORDER BY c.next_attempt_at
        LIMIT greatest(0, p_per_webhook - (SELECT count(*) FROM webhook_deliveries b WHERE b.webhook_id = w.id AND b.locked_until >= p_now))
     ) x
     ORDER BY x.next_attempt_at
     LIMIT p_limit
  ), locked AS (
    -- The conditions again, on the locked row: another instance may have claimed it since this statement began.
    SELECT c.id FROM webhook_deliveries c
     WHERE c.id IN (SELECT due.id FROM due) AND (c.status = 'pending' OR c.manual) AND (c.locked_until IS NULL OR c.locked_until < p_now)
     FOR UPDATE SKIP LOCKED
  )
  UPDATE webhook_deliveries d
     SET locked_until = p_lease_until, attempts = d.attempts + 1, first_attempt_at = coalesce(d.first_attempt_at, p_now)
    FROM locked WHERE d.id = locked.id
  RETURNING d.id, d.org_id, d.webhook_id, d.attempts, d.manual $$;
REVOKE ALL ON FUNCTION claim_webhook_deliveries(timestamptz, timestamptz, integer, integer) FROM PUBLIC;

-- Housekeeping across organizations: events dispatched before p_before go,
-- with their deliveries and attempts (ON DELETE CASCADE), unless a delivery
-- is still due. One row per event deleted.
CREATE INDEX events_dispatched_idx ON events (dispatched_at) WHERE dispatched_at IS NOT NULL;
CREATE FUNCTION delete_webhook_history_before(p_before timestamptz) RETURNS SETOF integer
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$
  DELETE FROM events e
   WHERE e.dispatched_at < p_before
     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND (d.status = 'pending' OR d.manual))
  RETURNING 1 $$;
REVOKE ALL ON FUNCTION delete_webhook_history_before(timestamptz) FROM PUBLIC;

-- Ingestion's batch insert now writes a feedback.created event per new row,
-- in the same statement and transaction.
DROP FUNCTION insert_feedback_batch;
CREATE FUNCTION insert_feedback_batch(
  p_org uuid, p_ids uuid[], p_projects uuid[], p_idem text[], p_ratings smallint[], p_types text[], p_messages text[],
  p_email_enc bytea[], p_email_index bytea[], p_ip_enc bytea[], p_ua_enc bytea[], p_custom_enc bytea[],
  p_page_urls text[], p_locales text[], p_widths int[], p_heights int[], p_created timestamptz[],
  p_consent boolean[], p_identity_enc bytea[], p_identity_verified boolean[], p_metadata_enc bytea[], p_context_enc bytea[],
  p_screenshots uuid[], p_rating_scales text[]
) RETURNS SETOF uuid LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public AS $$
BEGIN
  PERFORM set_config('app.org_id', p_org::text, true);
  RETURN QUERY
  WITH inserted AS (
    INSERT INTO feedback (id, org_id, project_id, idempotency_key, rating, type, message, email_enc, email_index, ip_enc,
                          user_agent_enc, custom_enc, page_url, locale, viewport_width, viewport_height, created_at, updated_at,
                          consent, identity_enc, identity_verified, metadata_enc, context_enc, screenshot_id, rating_scale)
    SELECT t.id, p_org, t.project_id, t.idem, t.rating, t.type, t.message, t.email_enc, t.email_index, t.ip_enc,
           t.ua_enc, t.custom_enc, t.page_url, t.locale, t.vw, t.vh, t.created_at, t.created_at,
           t.consent, t.identity_enc, t.identity_verified, t.metadata_enc, t.context_enc, t.screenshot_id, t.rating_scale
      FROM unnest(p_ids, p_projects, p_idem, p_ratings, p_types, p_messages, p_email_enc, p_email_index, p_ip_enc,
                  p_ua_enc, p_custom_enc, p_page_urls, p_locales, p_widths, p_heights, p_created,
                  p_consent, p_identity_enc, p_identity_verified, p_metadata_enc, p_context_enc, p_screenshots, p_rating_scales)
           AS t(id, project_id, idem, rating, type, message, email_enc, email_index, ip_enc, ua_enc, custom_enc, page_url, locale, vw, vh, created_at,
                consent, identity_enc, identity_verified, metadata_enc, context_enc, screenshot_id, rating_scale)
    ON CONFLICT (project_id, idempotency_key) DO NOTHING
    RETURNING feedback.id, feedback.project_id, feedback.created_at
  ), announced AS (
    INSERT INTO events (id, org_id, project_id, type, subject_id, created_at)
    SELECT gen_random_uuid(), p_org, i.project_id, 'feedback.created', i.id, i.created_at FROM inserted i
  )
  SELECT inserted.id FROM inserted;
END $$;
REVOKE ALL ON FUNCTION insert_feedback_batch FROM PUBLIC;

GRANT SELECT, INSERT, UPDATE, DELETE ON events, webhooks, webhook_deliveries TO :app_role;
GRANT SELECT, INSERT, DELETE ON webhook_attempts TO :app_role;
GRANT EXECUTE ON FUNCTION insert_feedback_batch, claim_pending_events(integer), claim_webhook_deliveries(timestamptz, timestamptz, integer, integer),
  delete_webhook_history_before(timestamptz) TO :app_role;
`;
