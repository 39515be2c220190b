// The REST API (issue 6): scoped API keys, stored as keyed hashes only, and
// the answers kept for Idempotency-Key retries.
export default `
CREATE TABLE api_keys (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  -- The key's first characters (prl_ and 8 more), shown in lists so people can
  -- tell their keys apart; never enough to use it.
  prefix text NOT NULL,
  -- HMAC-SHA-256 of the whole key under a key derived from the master key:
  -- a copy of the database alone cannot even test guesses.
  secret_hash bytea NOT NULL UNIQUE,
  scopes text[] NOT NULL,
  -- NULL: every project the creator may see; otherwise only these.
  project_ids uuid[],
  -- Empty: any address; otherwise only these IPs and CIDR ranges.
  allowed_ips text[] NOT NULL DEFAULT '{}',
  expires_at timestamptz,
  created_by uuid REFERENCES users ON DELETE SET NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  last_used_ip text,
  revoked_at timestamptz,
  -- Why it stopped working: revoked by someone, or its creator left.
  revoked_reason text CHECK (revoked_reason IN ('revoked', 'creator_removed', 'creator_demoted')),
  version integer NOT NULL DEFAULT 1
);
CREATE INDEX api_keys_org_idx ON api_keys (org_id, created_at);
CREATE INDEX api_keys_creator_idx ON api_keys (org_id, created_by);
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY api_keys_tenant ON api_keys FOR ALL
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

-- A Bearer key names its organization only through its hash: this is the one
-- narrow way from a presented key to its row.
CREATE FUNCTION api_key_by_hash(p_hash bytea)
  RETURNS TABLE (id uuid, org_id uuid, name text, prefix text, scopes text[], project_ids uuid[], allowed_ips text[],
                 expires_at timestamptz, created_by uuid, last_used_at timestamptz, revoked_at timestamptz, revoked_reason text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT id, org_id, name, prefix, scopes, project_ids, allowed_ips, expires_at, created_by, last_used_at, revoked_at, revoked_reason
          FROM api_keys WHERE secret_hash = p_hash $$;
REVOKE ALL ON FUNCTION api_key_by_hash(bytea) FROM PUBLIC;

-- Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): the first
-- answer to a POST, replayed to a retry with the same key from the same
-- caller (a user or an API key). status is NULL while the first request runs.
CREATE TABLE idempotency_keys (
  principal text NOT NULL,
  key text NOT NULL CHECK (length(key) <= 255),
  request_hash bytea NOT NULL,
  status integer,
  headers jsonb,
  -- Sealed: an answer may carry personal data.
  body_enc bytea,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON api_keys, idempotency_keys TO :app_role;
GRANT EXECUTE ON FUNCTION api_key_by_hash(bytea) TO :app_role;
`;
