// Triage through the REST API (issue 6): assignees, labels, internal notes,
// full-text search, and a version on every editable row for ETag / If-Match.
export default `
ALTER TABLE feedback ADD COLUMN assignee_id uuid REFERENCES users ON DELETE SET NULL;
ALTER TABLE feedback ADD COLUMN version integer NOT NULL DEFAULT 1;
-- 'simple': no stemming, so search works the same in every language the
-- widget speaks; prefix search covers most of what stemming would.
ALTER TABLE feedback ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', message)) STORED;
CREATE INDEX feedback_search_idx ON feedback USING gin (search);
-- The organization-wide inbox, newest first, and its filters (bench/README.md
-- "api.mjs" has the measurements behind each index). A project filter uses
-- feedback_inbox_idx (migration 1).
CREATE INDEX feedback_org_created_idx ON feedback (org_id, created_at DESC, id DESC);
CREATE INDEX feedback_status_idx ON feedback (org_id, status, created_at DESC, id DESC);
CREATE INDEX feedback_assignee_idx ON feedback (org_id, assignee_id, created_at DESC, id DESC) WHERE assignee_id IS NOT NULL;

-- What the inbox list reads (feedback/list.ts): the triage columns of the
-- current tenant's feedback, never a sealed one. Row-level security would
-- keep the full-text index out of reach: ahead of a policy, PostgreSQL lets
-- only leakproof operators into an index scan, and @@ is not one, so every
-- search would read the whole organization. The view applies the policy's
-- condition itself (as its owner's, it reads the table without the policy);
-- with no tenant set it has no rows. Only the app's own conditions run on it.
CREATE VIEW feedback_inbox AS
  SELECT id, org_id, project_id, status, rating, rating_scale, type, message, page_url, screenshot_id, assignee_id, version,
         locale, viewport_width, viewport_height, identity_verified, created_at, updated_at, search
    FROM feedback WHERE org_id = app_org_id();

ALTER TABLE projects ADD COLUMN version integer NOT NULL DEFAULT 1;

CREATE TABLE labels (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
  color text NOT NULL CHECK (color ~ '^#[0-9a-f]{6}$'),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (id, org_id)
);
CREATE UNIQUE INDEX labels_name_key ON labels (org_id, lower(name));
ALTER TABLE labels ENABLE ROW LEVEL SECURITY;
CREATE POLICY labels_tenant ON labels FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

CREATE TABLE feedback_labels (
  org_id uuid NOT NULL,
  feedback_id uuid NOT NULL REFERENCES feedback ON DELETE CASCADE,
  label_id uuid NOT NULL,
  -- The feedback's own created_at (which never changes), so a label's
  -- feedback can be read newest first from one index however rare or
  -- common the label is.
  created_at timestamptz NOT NULL,
  PRIMARY KEY (feedback_id, label_id),
  -- A label of another organization can never be attached.
  FOREIGN KEY (label_id, org_id) REFERENCES labels (id, org_id) ON DELETE CASCADE
);
CREATE INDEX feedback_labels_label_idx ON feedback_labels (label_id, created_at DESC, feedback_id DESC);
ALTER TABLE feedback_labels ENABLE ROW LEVEL SECURITY;
CREATE POLICY feedback_labels_tenant ON feedback_labels FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

CREATE TABLE feedback_notes (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  feedback_id uuid NOT NULL REFERENCES feedback ON DELETE CASCADE,
  author_id uuid REFERENCES users ON DELETE SET NULL,
  -- Written with an API key: the key (its creator is author_id).
  api_key_id uuid REFERENCES api_keys ON DELETE SET NULL,
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
  created_at timestamptz NOT NULL
);
CREATE INDEX feedback_notes_feedback_idx ON feedback_notes (feedback_id, created_at);
ALTER TABLE feedback_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY feedback_notes_tenant ON feedback_notes FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON labels, feedback_labels, feedback_notes TO :app_role;
GRANT SELECT ON feedback_inbox TO :app_role;
`;
