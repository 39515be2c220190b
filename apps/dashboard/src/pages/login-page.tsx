import { useMutation, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link, useRouter } from '@tanstack/react-router';
import { useRef, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import type { LoginAnswer, SecondFactor } from '../api/types';
import { AuthPage } from '../components/auth-page';
import { BusyButton } from '../components/busy-button';
import { ErrorNotice } from '../components/error-notice';
import { FactorForm, type Proof } from '../components/factor-form';
import { TextField } from '../components/text-field';
import { signWithPasskey } from '../lib/passkeys';
import { safeReturnPath } from '../lib/return-to';
import { usePageTitle } from '../lib/use-page-title';

const route = getRouteApi('/login');

async function verifySecondFactor(proof: Extract<Proof, { factor: SecondFactor }>): Promise<LoginAnswer> {
  switch (proof.factor) {
    case 'totp':
      return api.verifyTotp(proof.code);
    case 'recovery':
      return api.verifyRecoveryCode(proof.code);
    case 'webauthn':
      return api.verifyPasskey(await signWithPasskey(await api.getMfaPasskeyOptions()));
  }
}

/** The order the second step offers the factors in: the quickest first, recovery codes last. */
const FACTOR_ORDER: SecondFactor[] = ['webauthn', 'totp', 'recovery'];

export function LoginPage() {
  const { return_to: returnTo } = route.useSearch();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [methods, setMethods] = useState<SecondFactor[] | null>(null);
  usePageTitle(methods === null ? 'Log in' : 'Two-factor authentication');

  async function finish(answer: LoginAnswer) {
    // A new session: nothing cached under the previous one may be reused.
    queryClient.clear();
    if (answer.stage === 'mfa') {
      setMethods(FACTOR_ORDER.filter((factor) => answer.methods.includes(factor)));
    } else if (answer.stage === 'enroll') {
      await router.navigate({ to: '/account/enroll', search: { return_to: safeReturnPath(returnTo) } });
    } else {
      router.history.push(safeReturnPath(returnTo));
    }
  }

  return (
    <AuthPage>
      {methods === null ? (
        <PasswordStep onAnswer={finish} />
      ) : (
        <>
          <h1>Two-factor authentication</h1>
          <p className="muted">Your password was right. Now confirm it’s you with your second factor.</p>
          <FactorForm
            factors={methods}
            verify={verifySecondFactor}
            onVerified={finish}
            actions={
              <button type="button" className="button button-secondary" onClick={() => setMethods(null)}>
                Start over
              </button>
            }
          />
        </>
      )}
    </AuthPage>
  );
}

function PasswordStep({ onAnswer }: { onAnswer: (answer: LoginAnswer) => Promise<void> }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const passwordInput = useRef<HTMLInputElement>(null);

  const logIn = useMutation({
    mutationFn: () => api.logIn(email, password),
    onSuccess: (answer) => {
      setPassword('');
      return onAnswer(answer);
    },
    onError: () => passwordInput.current?.focus(),
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    logIn.mutate();
  }

  return (
    <>
      <h1>Log in</h1>
      <form onSubmit={submit} className="form">
        <TextField
          label="E-mail"
          name="email"
          type="email"
          autoComplete="username"
          required
          autoFocus
          value={email}
          onChange={setEmail}
        />
        <TextField
          ref={passwordInput}
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={setPassword}
        />
        <ErrorNotice error={logIn.error} />
        <BusyButton busy={logIn.isPending} busyLabel="Logging in…" className="button-block">
          Log in
        </BusyButton>
      </form>
      <p className="auth-foot">
        <Link to="/forgot-password">Forgot password?</Link>
      </p>
    </>
  );
}
