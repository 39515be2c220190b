// The front door (issue 5): per-project protection settings and captcha
// secret, the refusal counts the Protection page shows, and the shared state
// (rate-limit counters, used challenges) for installations without Redis.
export default `
ALTER TABLE projects ADD COLUMN protection jsonb NOT NULL DEFAULT '{}';
ALTER TABLE projects ADD COLUMN captcha_secret_enc bytea;

DROP FUNCTION project_by_public_key(text);
CREATE FUNCTION project_by_public_key(p_key text)
  RETURNS TABLE (id uuid, org_id uuid, public_key text, allowed_domains text[], widget_settings jsonb, identity_secret_enc bytea,
                 protection jsonb, captcha_secret_enc bytea)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT id, org_id, public_key, allowed_domains, widget_settings, identity_secret_enc, protection, captcha_secret_enc
        FROM projects WHERE public_key = p_key $$;
REVOKE ALL ON FUNCTION project_by_public_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION project_by_public_key(text) TO :app_role;

-- Refusals counted per project, hour and problem code; written in batches.
CREATE TABLE protection_refusals (
  org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  project_id uuid NOT NULL REFERENCES projects ON DELETE CASCADE,
  hour timestamptz NOT NULL,
  code text NOT NULL,
  count bigint NOT NULL,
  PRIMARY KEY (project_id, hour, code)
);
CREATE INDEX protection_refusals_hour_idx ON protection_refusals (hour);
-- Housekeeping works across organizations; this is all it may do to them.
-- One row per deleted count, so the caller's row count is the number deleted.
CREATE FUNCTION delete_refusals_before(p_before timestamptz) RETURNS SETOF integer
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ DELETE FROM protection_refusals WHERE hour < p_before RETURNING 1 $$;
REVOKE ALL ON FUNCTION delete_refusals_before(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION delete_refusals_before(timestamptz) TO :app_role;
ALTER TABLE protection_refusals ENABLE ROW LEVEL SECURITY;
CREATE POLICY protection_refusals_tenant ON protection_refusals FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

-- rate-limiter-flexible's own table layout (RateLimiterPostgres, tableCreated).
CREATE TABLE rate_limits (
  key varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);
CREATE INDEX rate_limits_expire_idx ON rate_limits (expire);

-- Single-use tokens (solved challenges) and short-lived dedupe keys.
CREATE TABLE shared_keys (
  key text PRIMARY KEY,
  value text NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX shared_keys_expires_idx ON shared_keys (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON protection_refusals, rate_limits, shared_keys TO :app_role;
`;
