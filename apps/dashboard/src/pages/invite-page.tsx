import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useRouter } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api, isApiError } from '../api/client';
import { inviteQuery, meQuery } from '../api/queries';
import type { InviteLookup, LoginAnswer } from '../api/types';
import { AuthPage } from '../components/auth-page';
import { BusyButton } from '../components/busy-button';
import { ErrorNotice } from '../components/error-notice';
import { NewPasswordField } from '../components/new-password-field';
import { TextField } from '../components/text-field';
import { useFragmentToken } from '../lib/fragment-token';
import { ROLE_LABELS } from '../lib/format';
import { useLogOut } from '../lib/use-log-out';
import { usePageTitle } from '../lib/use-page-title';

export function InvitePage() {
  const [token, forgetToken] = useFragmentToken();
  usePageTitle('Invitation');
  // The token stays in memory for this page, so "log in first" can come back here without it in any address.
  const lookup = useQuery({ ...inviteQuery(token ?? ''), enabled: token !== null });

  if (token === null || isApiError(lookup.error, 'token_invalid')) {
    return (
      <AuthPage>
        <h1>This invitation does not work</h1>
        <p>Invitation links work once and expire after 7 days. Ask whoever invited you to send a new one.</p>
        <p>
          <Link to="/login">Go to log in</Link>
        </p>
      </AuthPage>
    );
  }
  return (
    <AuthPage wide>
      {lookup.isPending ? (
        <p className="muted">Loading the invitation…</p>
      ) : lookup.isError ? (
        <ErrorNotice error={lookup.error} />
      ) : (
        <>
          <h1>Join {lookup.data.organization.name}</h1>
          <p className="muted">
            You are invited as <strong>{ROLE_LABELS[lookup.data.role] ?? lookup.data.role}</strong> with{' '}
            <strong>{lookup.data.email}</strong>.
          </p>
          {lookup.data.hasAccount ? (
            <JoinWithAccount token={token} invite={lookup.data} onJoined={forgetToken} />
          ) : (
            <CreateAccount token={token} invite={lookup.data} onJoined={forgetToken} />
          )}
        </>
      )}
    </AuthPage>
  );
}

type StepProps = { token: string; invite: InviteLookup; onJoined: () => void };

/** After joining, go in with the new session (or set up MFA first if the organization asks for it). */
function useAccept(onJoined: () => void) {
  const router = useRouter();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: api.acceptInvite,
    onSuccess: async (answer: LoginAnswer) => {
      onJoined();
      queryClient.clear();
      await router.navigate({ to: answer.stage === 'enroll' ? '/account/enroll' : '/' });
    },
  });
}

function CreateAccount({ token, invite, onJoined }: StepProps) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const accept = useAccept(onJoined);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    accept.mutate({ token, name: name.trim(), password });
  }

  return (
    <form onSubmit={submit} className="form">
      {/* For password managers: the account the new password belongs to. */}
      <input type="email" name="email" autoComplete="username" value={invite.email} readOnly hidden />
      <TextField label="Your name" name="name" type="text" autoComplete="name" required maxLength={200} autoFocus value={name} onChange={setName} />
      <NewPasswordField value={password} onChange={setPassword} />
      <ErrorNotice error={accept.error} />
      <BusyButton busy={accept.isPending} busyLabel="Creating account…" className="button-block">
        Create account and join
      </BusyButton>
    </form>
  );
}

function JoinWithAccount({ token, invite, onJoined }: StepProps) {
  // 401 here just means "not signed in" on this public page.
  const me = useQuery({ ...meQuery, retry: false });
  const accept = useAccept(onJoined);
  // Back here after logging in: the token waits in memory, not in the address.
  const logOut = useLogOut('/invite');
  const isSignedInAsInvitee =
    me.data !== undefined &&
    me.data.session.stage === 'done' &&
    me.data.user.email.toLowerCase() === invite.email.toLowerCase();

  if (me.isPending) return <p className="muted">Checking your session…</p>;
  if (isSignedInAsInvitee) {
    return (
      <div className="stack">
        <BusyButton type="button" busy={accept.isPending} busyLabel="Joining…" className="button-block" autoFocus onClick={() => accept.mutate({ token })}>
          Join {invite.organization.name}
        </BusyButton>
        <ErrorNotice error={accept.error} />
      </div>
    );
  }
  return (
    <div className="stack">
      <p>
        <strong>{invite.email}</strong> already has a Parley account. Log in with it to accept the invitation.
      </p>
      {me.data === undefined ? (
        <Link to="/login" search={{ return_to: '/invite' }} className="button button-primary button-block">
          Log in as {invite.email}
        </Link>
      ) : (
        <>
          <p className="muted">You are signed in as {me.data.user.email}; you will be logged out first.</p>
          <BusyButton type="button" busy={logOut.isPending} busyLabel="Logging out…" className="button-block" onClick={() => logOut.mutate()}>
            Log out and log in as {invite.email}
          </BusyButton>
        </>
      )}
    </div>
  );
}
