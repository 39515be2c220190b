import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useRouter } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api, isApiError } from '../api/client';
import { setupQuery } from '../api/queries';
import { AuthPage } from '../components/auth-page';
import { BusyButton } from '../components/busy-button';
import { ErrorNotice } from '../components/error-notice';
import { NewPasswordField } from '../components/new-password-field';
import { TextField } from '../components/text-field';
import { useFragmentToken } from '../lib/fragment-token';
import { usePageTitle } from '../lib/use-page-title';

export function SetupPage() {
  const [linkToken, forgetLinkToken] = useFragmentToken();
  const setup = useQuery(setupQuery);
  usePageTitle('Set up');

  return (
    <AuthPage wide>
      {setup.isPending ? (
        <p className="muted">Loading…</p>
      ) : setup.isError ? (
        <ErrorNotice error={setup.error} />
      ) : setup.data.required ? (
        <SetupForm linkToken={linkToken} onDone={forgetLinkToken} />
      ) : (
        <AlreadySetUp />
      )}
    </AuthPage>
  );
}

function AlreadySetUp() {
  return (
    <div data-testid="setup-done">
      <h1>Parley is already set up</h1>
      <p>An administrator account exists. Log in with it, or ask your administrator for an invitation.</p>
      <p>
        <Link to="/login" className="button button-primary">
          Go to log in
        </Link>
      </p>
    </div>
  );
}

function SetupForm({ linkToken, onDone }: { linkToken: string | null; onDone: () => void }) {
  const router = useRouter();
  const queryClient = useQueryClient();
  const [token, setToken] = useState(linkToken ?? '');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [organization, setOrganization] = useState('');

  const complete = useMutation({
    mutationFn: () => api.completeSetup({ token, email, password, name, organization }),
    onSuccess: async () => {
      onDone();
      queryClient.clear();
      await router.navigate({ to: '/' });
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    complete.mutate();
  }

  if (isApiError(complete.error, 'setup_done')) return <AlreadySetUp />;
  // A link token that the server refused can be corrected by hand.
  const isTokenFieldShown = linkToken === null || isApiError(complete.error, 'setup_token_invalid');

  return (
    <>
      <h1>Set up Parley</h1>
      <p className="muted">
        Create the first account. It owns the organization you name here and can invite the rest of
        your team later.
      </p>
      <form onSubmit={submit} className="form">
        {isTokenFieldShown && (
          <TextField
            label="Setup token"
            name="token"
            type="text"
            autoComplete="off"
            spellCheck={false}
            required
            value={token}
            onChange={(value) => setToken(value.trim())}
            hint={
              <>
                Open the one-time setup link the server printed when it first started, or paste the
                part after <code>#token=</code> here.
              </>
            }
          />
        )}
        <TextField
          label="Name"
          name="name"
          type="text"
          autoComplete="name"
          required
          maxLength={200}
          value={name}
          onChange={setName}
        />
        <TextField
          label="E-mail"
          name="email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={setEmail}
        />
        <NewPasswordField value={password} onChange={setPassword} />
        <TextField
          label="Organization"
          name="organization"
          type="text"
          autoComplete="organization"
          required
          maxLength={200}
          value={organization}
          onChange={setOrganization}
          hint="Your company or team, e.g. “Acme Inc.”"
        />
        <ErrorNotice error={complete.error} />
        <BusyButton busy={complete.isPending} busyLabel="Creating account…" className="button-block">
          Create account
        </BusyButton>
      </form>
    </>
  );
}
