import { useMutation, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, useRouter } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { AuthPage } from '../components/auth-page';
import { BusyButton } from '../components/busy-button';
import { ErrorNotice } from '../components/error-notice';
import { TextField } from '../components/text-field';
import { safeReturnPath } from '../lib/return-to';
import { usePageTitle } from '../lib/use-page-title';

const route = getRouteApi('/login');

export function LoginPage() {
  const { return_to: returnTo } = route.useSearch();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  usePageTitle('Log in');

  const logIn = useMutation({
    mutationFn: () => api.logIn(email, password),
    onSuccess: () => {
      // A new session: nothing cached under the previous one may be reused.
      queryClient.clear();
      setPassword('');
      router.history.push(safeReturnPath(returnTo));
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    logIn.mutate();
  }

  return (
    <AuthPage>
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
    </AuthPage>
  );
}
