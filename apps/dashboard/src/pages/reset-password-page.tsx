import { useMutation } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api, isApiError } from '../api/client';
import { AuthPage } from '../components/auth-page';
import { BusyButton } from '../components/busy-button';
import { ErrorNotice } from '../components/error-notice';
import { NewPasswordField } from '../components/new-password-field';
import { useFragmentToken } from '../lib/fragment-token';
import { usePageTitle } from '../lib/use-page-title';

export function ResetPasswordPage() {
  const [token, forgetToken] = useFragmentToken();
  const [password, setPassword] = useState('');
  usePageTitle('Choose a new password');

  const reset = useMutation({
    mutationFn: (linkToken: string) => api.resetPassword(linkToken, password),
    onSuccess: () => {
      forgetToken();
      setPassword('');
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (token !== null) reset.mutate(token);
  }

  if (reset.isSuccess) {
    return (
      <AuthPage>
        <h1>Password changed</h1>
        <p role="status">Your new password is set, and every session of your account has been ended.</p>
        <p>
          <Link to="/login" className="button button-primary">
            Log in
          </Link>
        </p>
      </AuthPage>
    );
  }

  if (token === null || isApiError(reset.error, 'token_invalid')) {
    return (
      <AuthPage>
        <h1>This link does not work</h1>
        <ErrorNotice error={reset.error} />
        <p>Reset links work once and expire after a while. Ask for a new one and use the latest e-mail.</p>
        <p>
          <Link to="/forgot-password" className="button button-primary">
            Send a new link
          </Link>
        </p>
      </AuthPage>
    );
  }

  return (
    <AuthPage>
      <h1>Choose a new password</h1>
      <form onSubmit={submit} className="form">
        <NewPasswordField label="New password" autoFocus value={password} onChange={setPassword} />
        <ErrorNotice error={reset.error} />
        <BusyButton busy={reset.isPending} busyLabel="Saving…" className="button-block">
          Set new password
        </BusyButton>
      </form>
    </AuthPage>
  );
}
