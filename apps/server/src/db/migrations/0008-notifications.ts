// E-mail notifications (issue 6): each member chooses, per project, a mail
// for every new feedback, a daily digest, or nothing.
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
ALTER TABLE notification_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY notification_settings_tenant ON notification_settings FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

-- One daily digest run per day, whichever instance gets there first.
CREATE TABLE digest_runs (
  day date PRIMARY KEY,
  started_at timestamptz NOT NULL
);

GRANT SELECT, INSERT, UPDATE, DELETE ON notification_settings TO :app_role;
GRANT SELECT, INSERT, DELETE ON digest_runs TO :app_role;
`;
