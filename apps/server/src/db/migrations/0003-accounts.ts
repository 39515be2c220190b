// Accounts (issue 4): session stages and policies, MFA, invites, password
// resets, the login log with its brute-force blocks, and the outbox that
// carries e-mail (and later webhooks) from any instance.
export default `
-- The strictest policy of the user's organizations is copied onto each
-- session, so checking a session reads one row.
ALTER TABLE sessions ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE sessions ADD COLUMN stage text NOT NULL DEFAULT 'done' CHECK (stage IN ('mfa', 'enroll', 'done'));
ALTER TABLE sessions ADD COLUMN idle_ms integer NOT NULL DEFAULT 1800000;
ALTER TABLE sessions ADD COLUMN factor_at timestamptz;
ALTER TABLE sessions ADD COLUMN rotate boolean NOT NULL DEFAULT false;
-- A WebAuthn challenge in flight, bound to this session.
ALTER TABLE sessions ADD COLUMN challenge text;
ALTER TABLE sessions ADD COLUMN challenge_expires_at timestamptz;
CREATE UNIQUE INDEX sessions_public_id_key ON sessions (public_id);

ALTER TABLE organizations ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;
ALTER TABLE organizations ADD COLUMN session_idle_minutes integer NOT NULL DEFAULT 30 CHECK (session_idle_minutes BETWEEN 5 AND 1440);
ALTER TABLE organizations ADD COLUMN session_absolute_hours integer NOT NULL DEFAULT 12 CHECK (session_absolute_hours BETWEEN 1 AND 720);

-- NULL: every project of the organization; otherwise only these.
ALTER TABLE memberships ADD COLUMN project_ids uuid[];

-- Sealed with a key derived from the master key for user secrets.
CREATE TABLE totp_credentials (
  user_id uuid PRIMARY KEY REFERENCES users ON DELETE CASCADE,
  secret_enc bytea NOT NULL,
  confirmed_at timestamptz,
  -- The last accepted time step: a code from it or before is refused (replay).
  last_step bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL
);

CREATE TABLE webauthn_credentials (
  id text PRIMARY KEY CHECK (length(id) <= 1024),
  user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
  public_key bytea NOT NULL,
  counter bigint NOT NULL,
  transports text[] NOT NULL DEFAULT '{}',
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  created_at timestamptz NOT NULL,
  last_used_at timestamptz
);
CREATE INDEX webauthn_credentials_user_idx ON webauthn_credentials (user_id);

CREATE TABLE recovery_codes (
  user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
  code_hash bytea NOT NULL,
  used_at timestamptz,
  PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE password_resets (
  token_hash bytea PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);

-- Browsers that have signed in to an account before, for new-device notices.
CREATE TABLE known_devices (
  user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
  device_hash bytea NOT NULL,
  first_seen_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, device_hash)
);

CREATE TABLE invites (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  project_ids uuid[],
  token_hash bytea NOT NULL UNIQUE,
  invited_by uuid REFERENCES users ON DELETE SET NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX invites_org_idx ON invites (org_id, created_at);
ALTER TABLE invites ENABLE ROW LEVEL SECURITY;
CREATE POLICY invites_tenant ON invites FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

-- The invitee holds only the token; this is the one narrow way from a token
-- to its organization.
CREATE FUNCTION invite_by_token(p_hash bytea)
  RETURNS TABLE (id uuid, org_id uuid, org_name text, email text, role text, project_ids uuid[], expires_at timestamptz, accepted_at timestamptz, revoked_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT i.id, i.org_id, o.name, i.email, i.role, i.project_ids, i.expires_at, i.accepted_at, i.revoked_at
          FROM invites i JOIN organizations o ON o.id = i.org_id WHERE i.token_hash = p_hash $$;
REVOKE ALL ON FUNCTION invite_by_token(bytea) FROM PUBLIC;

-- Every authentication attempt, known account or not. The e-mail tried is
-- kept as typed (normalised) so attempts on unknown addresses are counted
-- and shown too.
CREATE TABLE login_attempts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL,
  user_id uuid REFERENCES users ON DELETE SET NULL,
  email text NOT NULL CHECK (length(email) <= 254),
  ip text,
  user_agent text CHECK (length(user_agent) <= 500),
  method text NOT NULL CHECK (method IN ('password', 'totp', 'webauthn', 'recovery', 'reset', 'invite')),
  result text NOT NULL CHECK (result IN ('success', 'failure', 'blocked')),
  reason text
);
CREATE INDEX login_attempts_email_idx ON login_attempts (email, at);
CREATE INDEX login_attempts_ip_idx ON login_attempts (ip, at) WHERE result = 'failure';
CREATE INDEX login_attempts_user_idx ON login_attempts (user_id, at DESC);

-- An account locked or an IP blocked until a time. Attempts while blocked
-- are logged as 'blocked' and do not extend it.
CREATE TABLE login_blocks (
  kind text NOT NULL CHECK (kind IN ('account', 'ip')),
  key text NOT NULL,
  until timestamptz NOT NULL,
  PRIMARY KEY (kind, key)
);

-- Jobs for any instance: claimed with FOR UPDATE SKIP LOCKED. The payload is
-- sealed (it may carry a reset or invite link).
CREATE TABLE outbox (
  id uuid PRIMARY KEY,
  kind text NOT NULL,
  payload_enc bytea NOT NULL,
  created_at timestamptz NOT NULL,
  run_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  last_error text,
  done_at timestamptz,
  failed_at timestamptz
);
CREATE INDEX outbox_due_idx ON outbox (run_at) WHERE done_at IS NULL AND failed_at IS NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON totp_credentials, webauthn_credentials, recovery_codes, password_resets,
  known_devices, invites, login_blocks, outbox TO :app_role;
GRANT SELECT, INSERT, DELETE ON login_attempts TO :app_role;
GRANT EXECUTE ON FUNCTION invite_by_token(bytea) TO :app_role;
`;
