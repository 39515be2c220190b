import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { mfaQuery, queryKeys, sessionsQuery } from '../../api/queries';
import type { MfaState } from '../../api/types';
import { ActionButton } from '../../components/action-button';
import { BusyButton } from '../../components/busy-button';
import { ErrorNotice } from '../../components/error-notice';
import { NewPasswordField } from '../../components/new-password-field';
import { PasskeySetup } from '../../components/passkey-setup';
import { RecoveryCodes } from '../../components/recovery-codes';
import { AccountNav } from '../../components/section-nav';
import { TextField } from '../../components/text-field';
import { TotpSetup } from '../../components/totp-setup';
import { formatDateTime } from '../../lib/format';
import { usePageTitle } from '../../lib/use-page-title';

export function AccountSecurityPage() {
  usePageTitle('Account security');
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Account security</h1>
          <p className="muted">Your password, second factors and signed-in devices.</p>
        </div>
      </div>
      <AccountNav current="security" />
      <div className="account-layout">
        <div>
          <TwoFactorSection />
          <SessionsSection />
        </div>
        <PasswordSection />
      </div>
    </>
  );
}

function PasswordSection() {
  const queryClient = useQueryClient();
  const [currentPassword, setCurrentPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');

  const change = useMutation({
    mutationFn: () => api.changePassword(currentPassword, newPassword),
    onSuccess: () => {
      setCurrentPassword('');
      setNewPassword('');
      // The server ended the other sessions.
      void queryClient.invalidateQueries({ queryKey: queryKeys.sessions });
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    change.mutate();
  }

  return (
    <section className="card section" aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <form onSubmit={submit} className="form">
        <TextField
          label="Current password"
          name="current-password"
          type="password"
          autoComplete="current-password"
          required
          value={currentPassword}
          onChange={(value) => {
            setCurrentPassword(value);
            change.reset();
          }}
        />
        <NewPasswordField label="New password" value={newPassword} onChange={setNewPassword} />
        <ErrorNotice error={change.error} />
        <BusyButton busy={change.isPending} busyLabel="Changing…">
          Change password
        </BusyButton>
        {change.isSuccess && (
          <p className="save-status" role="status">
            Password changed. Your other sessions have been ended.
          </p>
        )}
      </form>
    </section>
  );
}

function TwoFactorSection() {
  const queryClient = useQueryClient();
  const mfa = useQuery(mfaQuery);
  // Codes the server just made (first factor, or regenerated): shown once, kept only here.
  const [newCodes, setNewCodes] = useState<string[] | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: queryKeys.me });
  const showCodes = (codes: string[] | null) => {
    if (codes !== null) setNewCodes(codes);
  };

  return (
    <section className="card section" aria-labelledby="mfa-title">
      <h2 id="mfa-title">Two-factor authentication</h2>
      <p className="hint">
        After your password, Parley asks for a second factor: a code from an authenticator app, or a passkey.
      </p>
      {mfa.isPending ? (
        <p className="muted">Loading…</p>
      ) : mfa.isError ? (
        <ErrorNotice error={mfa.error} />
      ) : (
        <>
          <div className="subsection">
            <h3>Authenticator app</h3>
            {mfa.data.totp.enabled ? (
              <div className="item-row" data-testid="totp-enabled">
                <p>
                  <span className="badge badge-success">On</span>
                  {mfa.data.totp.createdAt !== null && <span className="muted"> since {formatDateTime(mfa.data.totp.createdAt)}</span>}
                </p>
                <ActionButton
                  label="Remove"
                  busyLabel="Removing…"
                  run={async () => {
                    await api.removeTotp();
                    await refresh();
                  }}
                  confirm={{
                    question: 'Remove the authenticator app? Its codes stop working at once.',
                    confirmLabel: 'Remove app',
                  }}
                />
              </div>
            ) : (
              <TotpSetup onEnabled={showCodes} />
            )}
          </div>
          <PasskeysPart mfa={mfa.data} onAdded={showCodes} onRemoved={refresh} />
          <div className="subsection">
            <h3>Recovery codes</h3>
            {newCodes !== null ? (
              <RecoveryCodes codes={newCodes} doneLabel="I have saved them" onDone={() => setNewCodes(null)} />
            ) : (
              <RecoveryCodesPart mfa={mfa.data} onNewCodes={setNewCodes} />
            )}
          </div>
        </>
      )}
    </section>
  );
}

type PasskeysPartProps = {
  mfa: MfaState;
  onAdded: (codes: string[] | null) => void;
  onRemoved: () => Promise<void>;
};

function PasskeysPart({ mfa, onAdded, onRemoved }: PasskeysPartProps) {
  return (
    <div className="subsection">
      <h3>Passkeys</h3>
      {mfa.passkeys.length === 0 ? (
        <p className="muted">No passkeys yet.</p>
      ) : (
        <ul className="item-list" data-testid="passkeys">
          {mfa.passkeys.map((passkey) => (
            <li key={passkey.id} className="item-row">
              <div>
                <strong>{passkey.name}</strong>
                <span className="cell-note">
                  Added {formatDateTime(passkey.createdAt)} ·{' '}
                  {passkey.lastUsedAt === null ? 'never used' : `last used ${formatDateTime(passkey.lastUsedAt)}`}
                </span>
              </div>
              <ActionButton
                label="Remove"
                busyLabel="Removing…"
                run={async () => {
                  await api.removePasskey(passkey.id);
                  await onRemoved();
                }}
                confirm={{ question: `Remove the passkey “${passkey.name}”?`, confirmLabel: 'Remove passkey' }}
              />
            </li>
          ))}
        </ul>
      )}
      <PasskeySetup onAdded={onAdded} />
    </div>
  );
}

function RecoveryCodesPart({ mfa, onNewCodes }: { mfa: MfaState; onNewCodes: (codes: string[]) => void }) {
  const queryClient = useQueryClient();
  const hasFactor = mfa.totp.enabled || mfa.passkeys.length > 0;
  if (!hasFactor) {
    return <p className="muted">You get recovery codes when you add your first authenticator app or passkey.</p>;
  }
  const { left } = mfa.recoveryCodes;
  return (
    <div className="stack">
      <p className={left <= 2 ? 'notice notice-warning' : undefined} data-testid="recovery-left">
        {left === 1 ? '1 unused code left.' : `${left} unused codes left.`}
        {left <= 2 && ' Make new ones before you run out.'}
      </p>
      <ActionButton
        label="Make new codes"
        busyLabel="Making codes…"
        run={async () => {
          const { recoveryCodes } = await api.regenerateRecoveryCodes();
          onNewCodes(recoveryCodes);
          await queryClient.invalidateQueries({ queryKey: queryKeys.mfa });
        }}
        confirm={{ question: 'Make 10 new recovery codes? The old ones stop working at once.', confirmLabel: 'Make new codes' }}
      />
    </div>
  );
}

function SessionsSection() {
  const queryClient = useQueryClient();
  const sessions = useQuery(sessionsQuery);
  const refresh = () => queryClient.invalidateQueries({ queryKey: queryKeys.sessions });

  return (
    <section className="card section" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <p className="hint">Browsers signed in to your account. End any you do not recognise, then change your password.</p>
      {sessions.isPending ? (
        <p className="muted">Loading sessions…</p>
      ) : sessions.isError ? (
        <ErrorNotice error={sessions.error} />
      ) : (
        <>
          <table className="table" data-testid="sessions">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">IP address</th>
                <th scope="col">Last active</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sessions.data.items.map((session) => (
                <tr key={session.id}>
                  <td>
                    {session.device}
                    {session.current && <span className="badge badge-current">This session</span>}
                    <span className="cell-note">Signed in {formatDateTime(session.createdAt)}</span>
                  </td>
                  <td className="mono">{session.ip ?? '—'}</td>
                  <td className="nowrap">{formatDateTime(session.lastSeenAt)}</td>
                  <td className="cell-actions">
                    {!session.current && (
                      <ActionButton
                        label="End"
                        busyLabel="Ending…"
                        run={async () => {
                          await api.endSession(session.id);
                          await refresh();
                        }}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {sessions.data.items.some((session) => !session.current) && (
            <div className="section-foot">
              <ActionButton
                label="End all other sessions"
                busyLabel="Ending…"
                variant="danger"
                small={false}
                run={async () => {
                  await api.endOtherSessions();
                  await refresh();
                }}
                confirm={{ question: 'Sign out every other browser and device?', confirmLabel: 'End other sessions' }}
              />
            </div>
          )}
        </>
      )}
    </section>
  );
}
