import {
  browserSupportsWebAuthn,
  startAuthentication,
  startRegistration,
  WebAuthnError,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/browser';
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

/** Asks the browser to sign the server's challenge with one of the user's passkeys. */
export async function signWithPasskey(optionsJSON: PublicKeyCredentialRequestOptionsJSON): Promise<AuthenticationResponseJSON> {
  if (!browserSupportsWebAuthn()) throw new ApiError(0, 'passkey_unsupported', UNSUPPORTED);
  try {
    return await startAuthentication({ optionsJSON });
  } catch (error) {
    throw passkeyError(error);
  }
}

/** Asks the browser to create a passkey for this site. */
export async function createPasskey(optionsJSON: PublicKeyCredentialCreationOptionsJSON): Promise<RegistrationResponseJSON> {
  if (!browserSupportsWebAuthn()) throw new ApiError(0, 'passkey_unsupported', UNSUPPORTED);
  try {
    return await startRegistration({ optionsJSON });
  } catch (error) {
    throw passkeyError(error);
  }
}
