import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AuthenticationExtensionsClientOutputs } from '@simplewebauthn/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sessionOf } from '../auth/access.js';
import { clientOf, LoginAnswer } from '../auth/routes.js';
import { setSessionCookie } from '../auth/session-cookie.js';
import type { Context } from '../context.js';
import { DateTime, NonBlankText, OneOf, Text } from '../http/schemas.js';
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

    // The second step of a login.
    typed.post('/api/v1/auth/mfa/totp', { ...step, schema: { body: CodeBody, response: { 200: LoginAnswer } } }, (request, reply) =>
      finishLogin(request, reply, { method: 'totp', code: request.body.code }),
    );
    typed.post('/api/v1/auth/mfa/recovery', { ...step, schema: { body: CodeBody, response: { 200: LoginAnswer } } }, (request, reply) =>
      finishLogin(request, reply, { method: 'recovery', code: request.body.code }),
    );
    typed.post('/api/v1/auth/mfa/webauthn/options', step, (request) => passkeyChallenge(ctx, sessionOf(request)));
    typed.post(
      '/api/v1/auth/mfa/webauthn',
      { ...step, schema: { body: Type.Object({ response: AuthenticationResponse }, { additionalProperties: false }), response: { 200: LoginAnswer } } },
      (request, reply) => finishLogin(request, reply, { method: 'webauthn', response: request.body.response }),
    );

    // Re-authentication before a sensitive action.
    typed.post('/api/v1/auth/reauth', { ...enroll, schema: { body: ReauthBody } }, async (request, reply) => {
      await reauthenticate(ctx, callerOf(request), proofOf(request.body));
      return reply.code(204).send();
    });
    typed.post('/api/v1/auth/reauth/webauthn/options', enroll, (request) => passkeyChallenge(ctx, sessionOf(request)));

    // The user's own factors.
    typed.get('/api/v1/me/mfa', { ...enroll, schema: { response: { 200: MfaOverviewSchema } } }, (request) => mfaOverview(ctx.db.app, sessionOf(request).userId));

    typed.post('/api/v1/me/mfa/totp', { ...sensitive, schema: { response: { 200: Type.Object({ secret: Type.String(), otpauthUrl: Type.String() }) } } }, (request) =>
      beginTotpSetup(ctx, sessionOf(request)),
    );
    typed.post('/api/v1/me/mfa/totp/confirm', { ...enroll, schema: { body: CodeBody, response: { 200: NewCodes } } }, async (request, reply) =>
      sendAdded(reply, await finishTotpSetup(ctx, callerOf(request), request.body.code)),
    );
    typed.delete('/api/v1/me/mfa/totp', sensitive, async (request, reply) => {
      await disableTotp(ctx, callerOf(request));
      return reply.code(204).send();
    });

    typed.post('/api/v1/me/mfa/passkeys/options', sensitive, (request) => beginPasskeySetup(ctx, sessionOf(request)));
    typed.post(
      '/api/v1/me/mfa/passkeys',
      {
        ...enroll,
        schema: {
          body: Type.Object({ name: NonBlankText(100), response: RegistrationResponse }, { additionalProperties: false }),
          response: { 201: Type.Object({ passkey: PasskeySchema, recoveryCodes: Type.Union([RecoveryCodes, Type.Null()]) }) },
        },
      },
      async (request, reply) => {
        const added = await addPasskey(ctx, callerOf(request), request.body.name, request.body.response);
        return reply.code(201).send({ passkey: added.passkey, ...sendAdded(reply, added) });
      },
    );
    typed.delete('/api/v1/me/mfa/passkeys/:passkeyId', { ...sensitive, schema: { params: PasskeyParams } }, async (request, reply) => {
      await removePasskey(ctx, callerOf(request), request.params.passkeyId);
      return reply.code(204).send();
    });

    typed.post('/api/v1/me/mfa/recovery-codes', { ...sensitive, schema: { response: { 200: Type.Object({ recoveryCodes: RecoveryCodes }) } } }, async (request) => ({
      recoveryCodes: await regenerateRecoveryCodes(ctx, callerOf(request)),
    }));
  };
}
