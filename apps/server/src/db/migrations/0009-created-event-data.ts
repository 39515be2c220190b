// feedback.created events carry their data from the statement that writes
// them (issue 6 follow-up). Ingestion's batch insert used to leave it NULL
// for the dispatcher to read back from the feedback row and write into the
// event: a second read and a second write of every submission. Their data is
// now what the item was when it was created, like every other event's.
export default `
-- What webhooks say of a feedback item: what the team reads in the inbox,
-- never the reporter's personal data (e-mail, IP address, identity, custom
-- fields), which integrators fetch through the API, where each read is
-- audited. The one definition of it: the batch insert and the triage changes
-- (feedback/events.ts) both call it. Times as JavaScript's toISOString().
CREATE FUNCTION feedback_event_data(f feedback) RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = pg_catalog, public
  AS $$ SELECT jsonb_build_object(
    'id', f.id, 'projectId', f.project_id, 'status', f.status, 'rating', f.rating, 'ratingScale', f.rating_scale, 'type', f.type,
    'message', f.message, 'pageUrl', f.page_url, 'locale', f.locale, 'assigneeId', f.assignee_id,
    'labelIds', coalesce((SELECT jsonb_agg(l.label_id ORDER BY l.label_id) FROM feedback_labels l WHERE l.feedback_id = f.id), '[]'),
    'hasScreenshot', f.screenshot_id IS NOT NULL,
    'createdAt', to_char(f.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'updatedAt', to_char(f.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) $$;

-- Events still waiting for the dispatcher get their data as the dispatcher
-- would have filled it in; one whose feedback is gone, its id.
UPDATE events e SET data = feedback_event_data(f) FROM feedback f WHERE e.data IS NULL AND f.id = e.subject_id;
UPDATE events SET data = jsonb_build_object('id', subject_id) WHERE data IS NULL;
ALTER TABLE events ALTER COLUMN data SET NOT NULL;

CREATE OR REPLACE FUNCTION insert_feedback_batch(
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
    RETURNING feedback AS item
  ), announced AS (
    INSERT INTO events (id, org_id, project_id, type, subject_id, data, created_at)
    SELECT gen_random_uuid(), p_org, (i.item).project_id, 'feedback.created', (i.item).id, feedback_event_data(i.item), (i.item).created_at FROM inserted i
  )
  SELECT (inserted.item).id FROM inserted;
END $$;
`;
