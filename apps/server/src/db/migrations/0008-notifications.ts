// E-mail notifications (issue 6): each member chooses, per project, a mail
// for every new feedback, a daily digest, or nothing. And the audit log's
// API (issue 6), whose filters need indexes beyond the primary key.
export default `
CREATE TABLE notification_settings (
  org_id uuid NOT NULL,
  user_id uuid NOT NULL,
  project_id uuid NOT NULL,
  mode text NOT NULL CHECK (mode IN ('instant', 'daily', 'none')),
  PRIMARY KEY (project_id, user_id),
  -- Leaving the organization or losing the project ends the choice with it.
  FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE,
  FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE
);
CREATE INDEX notification_settings_user_idx ON notification_settings (org_id, user_id);
CREATE INDEX notification_settings_daily_idx ON notification_settings (org_id) WHERE mode = 'daily';
ALTER TABLE notification_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY notification_settings_tenant ON notification_settings FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

-- One daily digest run per day, whichever instance gets there first.
CREATE TABLE digest_runs (
  day date PRIMARY KEY,
  started_at timestamptz NOT NULL
);

-- The digest's one way across tenants: which organizations have a member
-- who asked for it. It then works each of them in that tenant's scope.
CREATE FUNCTION digest_org_ids() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT DISTINCT org_id FROM notification_settings WHERE mode = 'daily' $$;
REVOKE ALL ON FUNCTION digest_org_ids() FROM PUBLIC;

-- "Who saw this person's data": the audit log filtered by the object
-- (?targetId=) or by the kind of read (?action=), newest first, without
-- walking the whole log.
CREATE INDEX audit_events_target_idx ON audit_events (org_id, target_id, seq) WHERE target_id IS NOT NULL;
CREATE INDEX audit_events_action_idx ON audit_events (org_id, action, seq);

GRANT SELECT, INSERT, UPDATE, DELETE ON notification_settings TO :app_role;
GRANT SELECT, INSERT, DELETE ON digest_runs TO :app_role;
GRANT EXECUTE ON FUNCTION digest_org_ids() TO :app_role;
`;
