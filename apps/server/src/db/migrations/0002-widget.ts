// The full widget (issue 3): per-project widget settings and identity secret,
// screenshots, and the richer feedback a visitor can send. Personal data
// (identity, metadata, browser context, console errors, screenshots) is
// sealed like the other personal fields.
export default `
ALTER TABLE projects ADD COLUMN widget_settings jsonb NOT NULL DEFAULT '{}';
ALTER TABLE projects ADD COLUMN identity_secret_enc bytea;

CREATE TABLE screenshots (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  project_id uuid NOT NULL,
  content_type text NOT NULL CHECK (content_type IN ('image/png', 'image/webp')),
  image_enc bytea NOT NULL,
  width integer NOT NULL,
  height integer NOT NULL,
  created_at timestamptz NOT NULL,
  FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE,
  UNIQUE (id, project_id)
);
CREATE INDEX screenshots_org_created_idx ON screenshots (org_id, created_at);
ALTER TABLE screenshots ENABLE ROW LEVEL SECURITY;
CREATE POLICY screenshots_tenant ON screenshots FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());
GRANT SELECT, INSERT, DELETE ON screenshots TO :app_role;

-- Ratings now come in the project's scale (stars and emoji 1-5, thumbs 0-1,
-- NPS 0-10); the scale is stored with each one, as the project may change it.
ALTER TABLE feedback DROP CONSTRAINT feedback_rating_check;
ALTER TABLE feedback ADD COLUMN rating_scale text CHECK (rating_scale IN ('stars', 'thumbs', 'emoji', 'nps'));
ALTER TABLE feedback ADD CONSTRAINT feedback_rating_check CHECK (
  (rating IS NULL AND rating_scale IS NULL) OR
  (rating_scale IN ('stars', 'emoji') AND rating BETWEEN 1 AND 5) OR
  (rating_scale = 'thumbs' AND rating BETWEEN 0 AND 1) OR
  (rating_scale = 'nps' AND rating BETWEEN 0 AND 10) OR
  (rating_scale IS NULL AND rating BETWEEN 1 AND 5)
);
ALTER TABLE feedback ADD COLUMN consent boolean;
ALTER TABLE feedback ADD COLUMN identity_enc bytea;
ALTER TABLE feedback ADD COLUMN identity_verified boolean;
ALTER TABLE feedback ADD COLUMN metadata_enc bytea;
ALTER TABLE feedback ADD COLUMN context_enc bytea;
ALTER TABLE feedback ADD COLUMN screenshot_id uuid UNIQUE;
-- A screenshot belongs to the feedback's own project, and to one feedback only.
ALTER TABLE feedback ADD FOREIGN KEY (screenshot_id, project_id) REFERENCES screenshots (id, project_id);

DROP FUNCTION project_by_public_key(text);
CREATE FUNCTION project_by_public_key(p_key text)
  RETURNS TABLE (id uuid, org_id uuid, allowed_domains text[], widget_settings jsonb, identity_secret_enc bytea)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT id, org_id, allowed_domains, widget_settings, identity_secret_enc FROM projects WHERE public_key = p_key $$;
REVOKE ALL ON FUNCTION project_by_public_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION project_by_public_key(text) TO :app_role;

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
  RETURNING feedback.id;
END $$;
REVOKE ALL ON FUNCTION insert_feedback_batch FROM PUBLIC;
GRANT EXECUTE ON FUNCTION insert_feedback_batch TO :app_role;
`;
