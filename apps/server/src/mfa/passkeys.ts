import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { decodeAttestationObject, isoBase64URL } from '@simplewebauthn/server/helpers';
import type pg from 'pg';
import type { Config } from '../config.js';
import type { Tx } from '../db/tenant.js';

// WebAuthn with the dashboard's own origin as the relying party. User
// verification is preferred, not required (SECURITY.md): a security key
// without a PIN still proves possession, which is what a second factor is.

export type Passkey = { id: string; name: string; createdAt: Date; lastUsedAt: Date | null };

type StoredPasskey = { id: string; publicKey: Buffer; counter: number; transports: string[] };

const relyingParty = (config: Config) => ({ rpID: config.publicUrl.hostname, origin: config.publicUrl.origin });

async function storedPasskeys(db: pg.Pool | Tx, userId: string): Promise<StoredPasskey[]> {
  const { rows } = await db.query<{ id: string; public_key: Buffer; counter: string; transports: string[] }>(
    'SELECT id, public_key, counter, transports FROM webauthn_credentials WHERE user_id = $1 ORDER BY created_at',
    [userId],
  );
  return rows.map((r) => ({ id: r.id, publicKey: r.public_key, counter: Number(r.counter), transports: r.transports }));
}

export async function listPasskeys(db: pg.Pool | Tx, userId: string): Promise<Passkey[]> {
  const { rows } = await db.query<Passkey>(
    'SELECT id, name, created_at AS "createdAt", last_used_at AS "lastUsedAt" FROM webauthn_credentials WHERE user_id = $1 ORDER BY created_at, id',
    [userId],
  );
  return rows;
}

/** Options for navigator.credentials.create; the user's passkeys are excluded so one authenticator is not registered twice. */
export async function registrationOptions(pool: pg.Pool, config: Config, user: { id: string; email: string; name: string }): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: 'Parley',
    rpID: relyingParty(config).rpID,
    userName: user.email,
    userDisplayName: user.name,
    // A stable handle per account (the UUID's bytes), so a discoverable passkey is replaced rather than duplicated.
    userID: Buffer.from(user.id.replaceAll('-', ''), 'hex'),
    attestationType: 'none',
    excludeCredentials: (await storedPasskeys(pool, user.id)).map(({ id, transports }) => ({ id, transports })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
}

/**
 * Verifies a registration against the session's challenge; null when it does
 * not verify. Only the 'none' attestation format (what we ask for) is taken:
 * verifying a certificate chain a client sends would make the server fetch
 * the revocation lists the certificates name (an outbound request chosen by
 * the client), and we do not use attestation anyway.
 */
export async function verifyRegistration(config: Config, response: RegistrationResponseJSON, challenge: string): Promise<StoredPasskey | null> {
  try {
    const format = decodeAttestationObject(isoBase64URL.toBuffer(response.response.attestationObject)).get('fmt');
    if (format !== 'none') return null;
    const { rpID, origin } = relyingParty(config);
    const result = await verifyRegistrationResponse({ response, expectedChallenge: challenge, expectedOrigin: origin, expectedRPID: rpID, requireUserVerification: false });
    if (!result.verified) return null;
    const { credential } = result.registrationInfo;
    return { id: credential.id, publicKey: Buffer.from(credential.publicKey), counter: credential.counter, transports: credential.transports ?? [] };
  } catch {
    // Malformed CBOR, a bad signature, a wrong origin: all one answer to the client.
    return null;
  }
}

/** Stores a verified passkey; false when that credential is already registered (to anyone). */
export async function insertPasskey(tx: Tx, userId: string, passkey: StoredPasskey, name: string, now: Date): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO webauthn_credentials (id, user_id, public_key, counter, transports, name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (id) DO NOTHING`,
    [passkey.id, userId, passkey.publicKey, passkey.counter, passkey.transports, name, now],
  );
  return rowCount === 1;
}

/** Options for navigator.credentials.get with the user's passkeys; null when the user has none. */
export async function authenticationOptions(pool: pg.Pool, config: Config, userId: string): Promise<PublicKeyCredentialRequestOptionsJSON | null> {
  const passkeys = await storedPasskeys(pool, userId);
  if (passkeys.length === 0) return null;
  return generateAuthenticationOptions({
    rpID: relyingParty(config).rpID,
    allowCredentials: passkeys.map(({ id, transports }) => ({ id, transports })),
    userVerification: 'preferred',
  });
}

/**
 * Verifies an assertion by one of the user's passkeys against the session's
 * challenge and records its signature counter. A counter that does not move
 * forward (when the authenticator keeps one) means a cloned authenticator:
 * the library refuses it, and the conditional UPDATE refuses a race.
 */
export async function verifyAssertion(pool: pg.Pool, config: Config, userId: string, response: AuthenticationResponseJSON, challenge: string, now: Date): Promise<boolean> {
  const passkey = (await storedPasskeys(pool, userId)).find((p) => p.id === response.id);
  if (!passkey) return false;
  let newCounter: number;
  try {
    const { rpID, origin } = relyingParty(config);
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      credential: { id: passkey.id, publicKey: new Uint8Array(passkey.publicKey), counter: passkey.counter, transports: passkey.transports },
      requireUserVerification: false,
    });
    if (!result.verified) return false;
    newCounter = result.authenticationInfo.newCounter;
  } catch {
    return false;
  }
  const { rowCount } = await pool.query(
    `UPDATE webauthn_credentials SET counter = $3, last_used_at = $4
      WHERE id = $1 AND user_id = $2 AND (counter < $3 OR (counter = 0 AND $3 = 0))`,
    [passkey.id, userId, newCounter, now],
  );
  return rowCount === 1;
}

/** Removes one of the user's passkeys; false when the user has no passkey with that id. */
export async function deletePasskey(tx: Tx, userId: string, passkeyId: string): Promise<boolean> {
  const { rowCount } = await tx.query('DELETE FROM webauthn_credentials WHERE id = $1 AND user_id = $2', [passkeyId, userId]);
  return rowCount === 1;
}
