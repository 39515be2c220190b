import {
  browserSupportsWebAuthn,
  startAuthentication,
  startRegistration,
  WebAuthnError,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/browser';
import type { Answer, Body } from '@parley/client';
import { ApiError } from '../api/client';

// The browser's passkey prompt fails in its own ways (closed, timed out, a
// key already registered). They become ApiErrors with a `passkey_*` code, so
// every form shows them like the server's problems.

const UNSUPPORTED = 'This browser cannot use passkeys. Use another way to confirm, or another browser.';

function passkeyError(error: unknown): ApiError {
  if (error instanceof WebAuthnError && error.code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED') {
    return new ApiError(0, 'passkey_exists', 'This passkey is already registered with your account.');
  }
  const name = error instanceof Error ? error.name : '';
  if (name === 'NotAllowedError' || name === 'AbortError') {
    return new ApiError(0, 'passkey_cancelled', 'The passkey prompt was closed or timed out. Try again when you are ready.');
  }
  return new ApiError(0, 'passkey_failed', 'The passkey could not be used. Try again, or use another way.');
}

// The server hands over @simplewebauthn's options, which its schema describes
// as open objects; the browser library's own types are the exact ones.
type RequestOptions = Answer<'post', '/api/v1/auth/mfa/webauthn/options'>;
type CreationOptions = Answer<'post', '/api/v1/me/mfa/passkeys/options'>;
type Assertion = Body<'post', '/api/v1/auth/mfa/webauthn'>['response'];
type Attestation = Body<'post', '/api/v1/me/mfa/passkeys'>['response'];

/** A credential as the API takes it: its extension outputs are a plain JSON object there. */
function asSent<T extends { clientExtensionResults: object }>({ clientExtensionResults, ...credential }: T) {
  return { ...credential, clientExtensionResults: Object.fromEntries(Object.entries(clientExtensionResults)) };
}

/** Asks the browser to sign the server's challenge with one of the user's passkeys. */
export async function signWithPasskey(options: RequestOptions): Promise<Assertion> {
  if (!browserSupportsWebAuthn()) throw new ApiError(0, 'passkey_unsupported', UNSUPPORTED);
  try {
    return asSent(await startAuthentication({ optionsJSON: options as PublicKeyCredentialRequestOptionsJSON }));
  } catch (error) {
    throw passkeyError(error);
  }
}

/** Asks the browser to create a passkey for this site. */
export async function createPasskey(options: CreationOptions): Promise<Attestation> {
  if (!browserSupportsWebAuthn()) throw new ApiError(0, 'passkey_unsupported', UNSUPPORTED);
  try {
    return asSent(await startRegistration({ optionsJSON: options as PublicKeyCredentialCreationOptionsJSON }));
  } catch (error) {
    throw passkeyError(error);
  }
}
