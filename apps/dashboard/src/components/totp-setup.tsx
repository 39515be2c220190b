import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { queryKeys } from '../api/queries';
import { BusyButton } from './busy-button';
import { CopyButton } from './copy-button';
import { ErrorNotice } from './error-notice';
import { TotpCodeField } from './factor-form';
import { QrCode } from './qr-code';

type Props = {
  /** `recoveryCodes` only when this was the account's first second factor. */
  onEnabled: (recoveryCodes: string[] | null) => void;
  startLabel?: string;
};

/**
 * Adds an authenticator app: the server makes a secret (pending), the app
 * scans it, and the first code it shows confirms it.
 */
export function TotpSetup({ onEnabled, startLabel = 'Set up an authenticator app' }: Props) {
  const queryClient = useQueryClient();
  const [code, setCode] = useState('');

  // gcTime 0: the pending secret is kept by this component only, never in the cache.
  const start = useMutation({ mutationFn: api.startTotpSetup, gcTime: 0 });
  const confirm = useMutation({
    mutationFn: () => api.confirmTotpSetup(code),
    onSuccess: ({ recoveryCodes }) => {
      setCode('');
      start.reset();
      // The session may have been replaced (enrollment done): every answer about it is stale.
      void queryClient.invalidateQueries({ queryKey: queryKeys.me });
      onEnabled(recoveryCodes);
    },
    onError: () => setCode(''),
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    confirm.mutate();
  }

  const setup = start.data;
  if (setup === undefined) {
    return (
      <div className="stack">
        <BusyButton type="button" busy={start.isPending} busyLabel="Preparing…" onClick={() => start.mutate()}>
          {startLabel}
        </BusyButton>
        <ErrorNotice error={start.error} />
      </div>
    );
  }

  return (
    <div className="totp-setup" data-testid="totp-setup">
      <ol className="steps">
        <li>
          Open an authenticator app (for example 2FAS, Aegis, Google Authenticator or your password manager) and
          scan this code.
          <QrCode text={setup.otpauthUrl} label="QR code to add Parley to your authenticator app" />
        </li>
        <li>
          Can’t scan it? Enter this key in the app instead (time-based, 6 digits):
          <span className="secret-row">
            <code className="totp-secret" data-testid="totp-secret">
              {setup.secret}
            </code>
            <CopyButton text={setup.secret} label="Copy key" />
          </span>
        </li>
        <li>
          <form onSubmit={submit} className="form form-narrow">
            <TotpCodeField autoFocus value={code} onChange={setCode} />
            <ErrorNotice error={confirm.error} />
            <div className="form-actions">
              <BusyButton busy={confirm.isPending} busyLabel="Checking…">
                Turn on
              </BusyButton>
              <button
                type="button"
                className="button button-secondary"
                onClick={() => {
                  confirm.reset();
                  start.reset();
                }}
              >
                Cancel
              </button>
            </div>
          </form>
        </li>
      </ol>
    </div>
  );
}
