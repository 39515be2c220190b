import { useMutation } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { AuthPage } from '../components/auth-page';
import { BusyButton } from '../components/busy-button';
import { ErrorNotice } from '../components/error-notice';
import { TextField } from '../components/text-field';
import { usePageTitle } from '../lib/use-page-title';

export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  usePageTitle('Forgot password');

  const send = useMutation({ mutationFn: () => api.forgotPassword(email.trim()) });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    send.mutate();
  }

  return (
    <AuthPage>
      <h1>Forgot password</h1>
      {send.isSuccess ? (
        // The answer is the same whether the account exists, so the page cannot tell either.
        <div role="status" data-testid="reset-sent">
          <p>
            If <strong>{email.trim()}</strong> has a Parley account, a link to choose a new password is on its way.
            It works once and expires soon.
          </p>
          <p className="muted">Nothing arrived? Check the spam folder, or ask your administrator.</p>
        </div>
      ) : (
        <>
          <p className="muted">Enter your account’s e-mail address and we’ll send you a link to choose a new password.</p>
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
            <ErrorNotice error={send.error} />
            <BusyButton busy={send.isPending} busyLabel="Sending…" className="button-block">
              Send reset link
            </BusyButton>
          </form>
        </>
      )}
      <p className="auth-foot">
        <Link to="/login">Back to log in</Link>
      </p>
    </AuthPage>
  );
}
