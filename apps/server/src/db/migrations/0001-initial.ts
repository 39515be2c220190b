// The first schema. `:app_role` is replaced by the application role's quoted
// name (PARLEY_DB_APP_ROLE): it gets only the privileges below, never table
// ownership, so the row-level security policies bind it.
export default `
CREATE FUNCTION app_org_id() RETURNS uuid LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('app.org_id', true), '')::uuid $$;
CREATE FUNCTION app_user_id() RETURNS uuid LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;

-- Accounts are global: one person may belong to several organizations.
CREATE TABLE users (
  id uuid PRIMARY KEY,
  email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
  name text NOT NULL CHECK (length(name) <= 200),
  password_hash text,
  created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE sessions (
  id_hash bytea PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  ip text,
  user_agent text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE setup_tokens (
  token_hash bytea PRIMARY KEY,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

CREATE TABLE organizations (
  id uuid PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX organizations_name_key ON organizations (lower(name));

CREATE TABLE memberships (
  org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

-- Per-organization data keys, wrapped by the master key.
CREATE TABLE org_keys (
  org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  version integer NOT NULL,
  wrapped bytea NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, version)
);

CREATE TABLE projects (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  public_key text NOT NULL UNIQUE,
  allowed_domains text[] NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX projects_org_idx ON projects (org_id, created_at);
-- Lets feedback reference (project, organization) together, so a row can never
-- pair one tenant's org_id with another tenant's project.
ALTER TABLE projects ADD CONSTRAINT projects_id_org_key UNIQUE (id, org_id);

CREATE TABLE feedback (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  project_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'in_progress', 'done', 'archived')),
  rating smallint CHECK (rating BETWEEN 1 AND 5),
  type text,
  message text NOT NULL,
  -- Personal data, AES-256-GCM under the organization's data key.
  email_enc bytea,
  email_index bytea,
  ip_enc bytea,
  user_agent_enc bytea,
  custom_enc bytea,
  page_url text,
  locale text,
  viewport_width integer,
  viewport_height integer,
  idempotency_key text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX feedback_idempotency_key ON feedback (project_id, idempotency_key);
CREATE INDEX feedback_inbox_idx ON feedback (project_id, created_at DESC, id DESC);
CREATE INDEX feedback_email_idx ON feedback (org_id, email_index) WHERE email_index IS NOT NULL;

-- Append-only, hash-chained per organization.
CREATE TABLE audit_events (
  org_id uuid NOT NULL REFERENCES organizations,
  seq bigint NOT NULL,
  at timestamptz NOT NULL,
  actor_type text NOT NULL,
  actor_id text,
  actor_label text,
  ip text,
  action text NOT NULL,
  target_type text,
  target_id text,
  data jsonb NOT NULL,
  prev_hash bytea NOT NULL,
  hash bytea NOT NULL,
  PRIMARY KEY (org_id, seq)
);
CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

-- Tenant isolation: the app role sees a tenant's rows only inside withTenant().
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
CREATE POLICY organizations_read ON organizations FOR SELECT
  USING (id = app_org_id() OR id IN (SELECT org_id FROM memberships WHERE user_id = app_user_id()));
CREATE POLICY organizations_insert ON organizations FOR INSERT WITH CHECK (id = app_org_id());
CREATE POLICY organizations_update ON organizations FOR UPDATE USING (id = app_org_id());

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
CREATE POLICY memberships_read ON memberships FOR SELECT
  USING (org_id = app_org_id() OR user_id = app_user_id());
CREATE POLICY memberships_write ON memberships FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

ALTER TABLE org_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY org_keys_tenant ON org_keys FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());
ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
CREATE POLICY projects_tenant ON projects FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());
ALTER TABLE feedback ENABLE ROW LEVEL SECURITY;
CREATE POLICY feedback_tenant ON feedback FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_events_tenant ON audit_events FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

-- The two places where the app must cross the tenant boundary, each as narrow
-- as possible: the public widget key names its project, and the CLI names an
-- organization.
CREATE FUNCTION project_by_public_key(p_key text)
  RETURNS TABLE (id uuid, org_id uuid, allowed_domains text[])
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT id, org_id, allowed_domains FROM projects WHERE public_key = p_key $$;
CREATE FUNCTION organization_id_by_name(p_name text) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT id FROM organizations WHERE lower(name) = lower(p_name) $$;
-- Ingestion's group commit in one round trip: the function scopes its
-- transaction to the organization (as withTenant does) and inserts the batch.
-- It runs with the caller's rights, so row-level security binds it as it
-- binds withTenant.
CREATE FUNCTION insert_feedback_batch(
  p_org uuid, p_ids uuid[], p_projects uuid[], p_idem text[], p_ratings smallint[], p_types text[], p_messages text[],
  p_email_enc bytea[], p_email_index bytea[], p_ip_enc bytea[], p_ua_enc bytea[], p_custom_enc bytea[],
  p_page_urls text[], p_locales text[], p_widths int[], p_heights int[], p_created timestamptz[]
) RETURNS SETOF uuid LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public AS $$
BEGIN
  PERFORM set_config('app.org_id', p_org::text, true);
  RETURN QUERY
  INSERT INTO feedback (id, org_id, project_id, idempotency_key, rating, type, message, email_enc, email_index, ip_enc,
                        user_agent_enc, custom_enc, page_url, locale, viewport_width, viewport_height, created_at, updated_at)
  SELECT t.id, p_org, t.project_id, t.idem, t.rating, t.type, t.message, t.email_enc, t.email_index, t.ip_enc,
         t.ua_enc, t.custom_enc, t.page_url, t.locale, t.vw, t.vh, t.created_at, t.created_at
    FROM unnest(p_ids, p_projects, p_idem, p_ratings, p_types, p_messages, p_email_enc, p_email_index, p_ip_enc,
                p_ua_enc, p_custom_enc, p_page_urls, p_locales, p_widths, p_heights, p_created)
         AS t(id, project_id, idem, rating, type, message, email_enc, email_index, ip_enc, ua_enc, custom_enc, page_url, locale, vw, vh, created_at)
  ON CONFLICT (project_id, idempotency_key) DO NOTHING
  RETURNING feedback.id;
END $$;

REVOKE ALL ON FUNCTION project_by_public_key(text), organization_id_by_name(text), insert_feedback_batch FROM PUBLIC;

GRANT USAGE ON SCHEMA public TO :app_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, sessions, setup_tokens, organizations, memberships, org_keys, projects, feedback TO :app_role;
GRANT SELECT, INSERT ON audit_events TO :app_role;
GRANT SELECT ON schema_migrations TO :app_role;
GRANT EXECUTE ON FUNCTION project_by_public_key(text), organization_id_by_name(text), insert_feedback_batch TO :app_role;
`;
