import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AuthenticationExtensionsClientOutputs } from '@simplewebauthn/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sessionOf } from '../auth/access.js';
import { clientOf, LoginAnswer } from '../auth/routes.js';
import { setSessionCookie } from '../auth/session-cookie.js';
import type { Context } from '../context.js';
import { DateTime, NoContent, NonBlankText, OneOf, Text } from '../http/schemas.js';
import {
  addPasskey,
  beginPasskeySetup,
  beginTotpSetup,
  completeMfaStep,
  disableTotp,
  finishTotpSetup,
  mfaOverview,
  passkeyChallenge,
  reauthenticate,
  regenerateRecoveryCodes,
  removePasskey,
  type Caller,
  type FactorAdded,
  type FactorProof,
} from './service.js';

// A typed code: 6 digits or a recovery code with dashes and spaces. Anything
// of the wrong shape is a wrong code (counted as a failed attempt), not a
// validation error, so probing the format does not escape the limits.
const Code = Text({ minLength: 1, maxLength: 64 });
const CodeBody = Type.Object({ code: Code }, { additionalProperties: false });

// WebAuthn JSON as browsers (and @simplewebauthn/browser) send it: base64url
// fields, bounded. Extension outputs are the browser's, passed through.
const Base64Url = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+={0,2}$' });
const CredentialId = Base64Url(1024);
const ExtensionResults = Type.Unsafe<AuthenticationExtensionsClientOutputs>(Type.Object({}, { maxProperties: 16 }));
const credential = <T extends ReturnType<typeof Type.Object>>(response: T) =>
  Type.Object(
    {
      id: CredentialId,
      rawId: CredentialId,
      type: Type.Literal('public-key'),
      response,
      authenticatorAttachment: Type.Optional(OneOf(['platform', 'cross-platform'] as const)),
      clientExtensionResults: ExtensionResults,
    },
    { additionalProperties: false },
  );

const AuthenticationResponse = credential(
  Type.Object(
    { clientDataJSON: Base64Url(4096), authenticatorData: Base64Url(4096), signature: Base64Url(1024), userHandle: Type.Optional(Base64Url(128)) },
    { additionalProperties: false },
  ),
);

const RegistrationResponse = credential(
  Type.Object(
    {
      clientDataJSON: Base64Url(4096),
      attestationObject: Base64Url(8192),
      authenticatorData: Type.Optional(Base64Url(8192)),
      transports: Type.Optional(Type.Array(Text({ maxLength: 32 }), { maxItems: 10 })),
      publicKeyAlgorithm: Type.Optional(Type.Integer()),
      publicKey: Type.Optional(Base64Url(4096)),
    },
    { additionalProperties: false },
  ),
);

// Exactly one way to confirm who you are.
const ReauthBody = Type.Union([
  Type.Object({ password: Text({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }),
  Type.Object({ totpCode: Code }, { additionalProperties: false }),
  Type.Object({ recoveryCode: Code }, { additionalProperties: false }),
  Type.Object({ webauthn: AuthenticationResponse }, { additionalProperties: false }),
]);

function proofOf(body: Static<typeof ReauthBody>): FactorProof {
  if ('password' in body) return { method: 'password', password: body.password };
  if ('totpCode' in body) return { method: 'totp', code: body.totpCode };
  if ('recoveryCode' in body) return { method: 'recovery', code: body.recoveryCode };
  return { method: 'webauthn', response: body.webauthn };
}

const PasskeySchema = Type.Object({ id: Type.String(), name: Type.String(), createdAt: DateTime, lastUsedAt: Type.Union([DateTime, Type.Null()]) });
const RecoveryCodes = Type.Array(Type.String());
const NewCodes = Type.Object({ recoveryCodes: Type.Union([RecoveryCodes, Type.Null()]) });

const MfaOverviewSchema = Type.Object({
  totp: Type.Object({ enabled: Type.Boolean(), createdAt: Type.Union([DateTime, Type.Null()]) }),
  passkeys: Type.Array(PasskeySchema),
  recoveryCodes: Type.Object({ left: Type.Integer() }),
});

const PasskeyParams = Type.Object({ passkeyId: CredentialId });

// WebAuthn options as @simplewebauthn/server makes them, for the browser's
// navigator.credentials calls. Open objects (additionalProperties): the
// schema also filters answers, and a member it did not name must still reach
// the browser.
const open = { additionalProperties: true };
const UserVerification = OneOf(['required', 'preferred', 'discouraged'] as const);
const Hints = Type.Array(OneOf(['hybrid', 'security-key', 'client-device'] as const));
const Extensions = Type.Object({}, open);
const CredentialDescriptors = Type.Array(Type.Object({ id: Type.String(), type: Type.String(), transports: Type.Optional(Type.Array(Type.String())) }, open));
const RequestOptions = Type.Object(
  {
    challenge: Type.String(),
    timeout: Type.Optional(Type.Number()),
    rpId: Type.Optional(Type.String()),
    allowCredentials: Type.Optional(CredentialDescriptors),
    userVerification: Type.Optional(UserVerification),
    hints: Type.Optional(Hints),
    extensions: Type.Optional(Extensions),
  },
  { ...open, description: 'PublicKeyCredentialRequestOptionsJSON (WebAuthn Level 3), for navigator.credentials.get().' },
);
const CreationOptions = Type.Object(
  {
    rp: Type.Object({ name: Type.String(), id: Type.Optional(Type.String()) }, open),
    user: Type.Object({ id: Type.String(), name: Type.String(), displayName: Type.String() }, open),
    challenge: Type.String(),
    pubKeyCredParams: Type.Array(Type.Object({ alg: Type.Integer(), type: Type.Literal('public-key') }, open)),
    timeout: Type.Optional(Type.Number()),
    excludeCredentials: Type.Optional(CredentialDescriptors),
    authenticatorSelection: Type.Optional(
      Type.Object(
        {
          authenticatorAttachment: Type.Optional(OneOf(['platform', 'cross-platform'] as const)),
          requireResidentKey: Type.Optional(Type.Boolean()),
          residentKey: Type.Optional(OneOf(['required', 'preferred', 'discouraged'] as const)),
          userVerification: Type.Optional(UserVerification),
        },
        open,
      ),
    ),
    hints: Type.Optional(Hints),
    attestation: Type.Optional(OneOf(['none', 'indirect', 'direct', 'enterprise'] as const)),
    extensions: Type.Optional(Extensions),
  },
  { ...open, description: 'PublicKeyCredentialCreationOptionsJSON (WebAuthn Level 3), for navigator.credentials.create().' },
);

const callerOf = (request: FastifyRequest): Caller => ({ session: sessionOf(request), client: clientOf(request) });

export function mfaRoutes(ctx: Context) {
  /** The MFA step's answer: like the login's, with the new session's cookie. */
  const finishLogin = async (request: FastifyRequest, reply: FastifyReply, proof: Parameters<typeof completeMfaStep>[2]) => {
    const caller = callerOf(request);
    setSessionCookie(reply, await completeMfaStep(ctx, caller, proof));
    const { session } = caller;
    return { user: { id: session.userId, email: session.email, name: session.name }, stage: 'done' as const, methods: [] };
  };

  /** A first factor added in stage 'enroll' ended it: the browser gets the new session. */
  const sendAdded = (reply: FastifyReply, added: FactorAdded) => {
    if (added.token) setSessionCookie(reply, added.token);
    return { recoveryCodes: added.recoveryCodes };
  };

  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();
    // Secrets, recovery codes and factor lists: no cache may keep any of these answers.
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });
    const step = { config: { access: 'mfa-step' as const } };
    const enroll = { config: { access: 'enroll' as const } };
    const sensitive = { config: { access: 'enroll' as const, reauth: true } };
    // Answers holding a TOTP secret or recovery codes: an Idempotency-Key retry is told so instead of seeing them again.
    const withSecret = (route: typeof enroll | typeof sensitive) => ({ config: { ...route.config, secretAnswer: true } });

    // The second step of a login.
    const loginStep = (summary: string) => ({ summary, tags: ['Authentication'], response: { 200: LoginAnswer } });
    typed.post('/api/v1/auth/mfa/totp', { ...step, schema: { ...loginStep('Finish logging in with an authenticator code'), body: CodeBody } }, (request, reply) =>
      finishLogin(request, reply, { method: 'totp', code: request.body.code }),
    );
    typed.post('/api/v1/auth/mfa/recovery', { ...step, schema: { ...loginStep('Finish logging in with a recovery code'), body: CodeBody } }, (request, reply) =>
      finishLogin(request, reply, { method: 'recovery', code: request.body.code }),
    );
    typed.post(
      '/api/v1/auth/mfa/webauthn/options',
      { ...step, schema: { summary: 'Start logging in with a passkey', tags: ['Authentication'], response: { 200: RequestOptions } } },
      (request) => passkeyChallenge(ctx, sessionOf(request)),
    );
    typed.post(
      '/api/v1/auth/mfa/webauthn',
      { ...step, schema: { ...loginStep('Finish logging in with a passkey'), body: Type.Object({ response: AuthenticationResponse }, { additionalProperties: false }) } },
      (request, reply) => finishLogin(request, reply, { method: 'webauthn', response: request.body.response }),
    );

    // Re-authentication before a sensitive action.
    typed.post(
      '/api/v1/auth/reauth',
      {
        ...enroll,
        schema: {
          summary: 'Confirm it is you before a sensitive action',
          description: 'One of: the password, an authenticator code, a recovery code or a passkey. For the next 10 minutes, actions marked as needing re-authentication are allowed to this session.',
          tags: ['Authentication'],
          body: ReauthBody,
          response: NoContent,
        },
      },
      async (request, reply) => {
        await reauthenticate(ctx, callerOf(request), proofOf(request.body));
        return reply.code(204).send(null);
      },
    );
    typed.post(
      '/api/v1/auth/reauth/webauthn/options',
      { ...enroll, schema: { summary: 'Start confirming it is you with a passkey', tags: ['Authentication'], response: { 200: RequestOptions } } },
      (request) => passkeyChallenge(ctx, sessionOf(request)),
    );

    // The user's own factors.
    typed.get(
      '/api/v1/me/mfa',
      { ...enroll, schema: { summary: 'List your second factors', tags: ['Account'], response: { 200: MfaOverviewSchema } } },
      (request) => mfaOverview(ctx.db.app, sessionOf(request).userId),
    );

    typed.post(
      '/api/v1/me/mfa/totp',
      {
        ...withSecret(sensitive),
        schema: {
          summary: 'Start setting up an authenticator app',
          description: 'A new secret, active once confirmed with a code from the app.',
          tags: ['Account'],
          response: { 200: Type.Object({ secret: Type.String(), otpauthUrl: Type.String() }) },
        },
      },
      (request) => beginTotpSetup(ctx, sessionOf(request)),
    );
    typed.post(
      '/api/v1/me/mfa/totp/confirm',
      {
        ...withSecret(enroll),
        schema: {
          summary: 'Confirm the authenticator app with a code',
          description: '`recoveryCodes` is set (and shown only this once) when this is the first second factor.',
          tags: ['Account'],
          body: CodeBody,
          response: { 200: NewCodes },
        },
      },
      async (request, reply) => sendAdded(reply, await finishTotpSetup(ctx, callerOf(request), request.body.code)),
    );
    typed.delete('/api/v1/me/mfa/totp', { ...sensitive, schema: { summary: 'Remove the authenticator app', tags: ['Account'], response: NoContent } }, async (request, reply) => {
      await disableTotp(ctx, callerOf(request));
      return reply.code(204).send(null);
    });

    typed.post(
      '/api/v1/me/mfa/passkeys/options',
      { ...sensitive, schema: { summary: 'Start adding a passkey', tags: ['Account'], response: { 200: CreationOptions } } },
      (request) => beginPasskeySetup(ctx, sessionOf(request)),
    );
    typed.post(
      '/api/v1/me/mfa/passkeys',
      {
        ...withSecret(enroll),
        schema: {
          summary: 'Add a passkey',
          description: '`recoveryCodes` is set (and shown only this once) when this is the first second factor.',
          tags: ['Account'],
          body: Type.Object({ name: NonBlankText(100), response: RegistrationResponse }, { additionalProperties: false }),
          response: { 201: Type.Object({ passkey: PasskeySchema, recoveryCodes: Type.Union([RecoveryCodes, Type.Null()]) }) },
        },
      },
      async (request, reply) => {
        const added = await addPasskey(ctx, callerOf(request), request.body.name, request.body.response);
        return reply.code(201).send({ passkey: added.passkey, ...sendAdded(reply, added) });
      },
    );
    typed.delete('/api/v1/me/mfa/passkeys/:passkeyId', { ...sensitive, schema: { summary: 'Remove a passkey', tags: ['Account'], params: PasskeyParams, response: NoContent } }, async (request, reply) => {
      await removePasskey(ctx, callerOf(request), request.params.passkeyId);
      return reply.code(204).send(null);
    });

    typed.post(
      '/api/v1/me/mfa/recovery-codes',
      {
        ...withSecret(sensitive),
        schema: {
          summary: 'Replace your recovery codes',
          description: 'Ten new codes, shown only in this answer; the old ones stop working and your other sessions end.',
          tags: ['Account'],
          response: { 200: Type.Object({ recoveryCodes: RecoveryCodes }) },
        },
      },
      async (request) => ({ recoveryCodes: await regenerateRecoveryCodes(ctx, callerOf(request)) }),
    );
  };
}
