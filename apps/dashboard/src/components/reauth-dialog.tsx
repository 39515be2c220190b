import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { api, setReauthHandler } from '../api/client';
import { meQuery, queryKeys } from '../api/queries';
import { signWithPasskey } from '../lib/passkeys';
import { ErrorNotice } from './error-notice';
import { FactorForm, type Proof } from './factor-form';

async function reauthenticate(proof: Proof): Promise<void> {
  switch (proof.factor) {
    case 'password':
      return api.reauthenticate({ password: proof.password });
    case 'totp':
      return api.reauthenticate({ totpCode: proof.code });
    case 'recovery':
      return api.reauthenticate({ recoveryCode: proof.code });
    case 'webauthn':
      return api.reauthenticate({ webauthn: await signWithPasskey(await api.getReauthPasskeyOptions()) });
  }
}

/**
 * Sensitive actions need a factor checked in the last few minutes. When one
 * answers 403 reauth_required, the API client asks this dialog; it asks the
 * person for a password, code or passkey, and the client then repeats the
 * action. Requests that hit the rule together share one dialog.
 */
export function ReauthDialog() {
  const queryClient = useQueryClient();
  const dialog = useRef<HTMLDialogElement>(null);
  const waiting = useRef<{ promise: Promise<boolean>; resolve: (isConfirmed: boolean) => void } | null>(null);
  const [isOpen, setOpen] = useState(false);
  const me = useQuery({ ...meQuery, enabled: isOpen });

  useEffect(() => {
    setReauthHandler(() => {
      if (waiting.current === null) {
        let resolve!: (isConfirmed: boolean) => void;
        const promise = new Promise<boolean>((r) => (resolve = r));
        waiting.current = { promise, resolve };
        setOpen(true);
      }
      return waiting.current.promise;
    });
    return () => setReauthHandler(null);
  }, []);

  useEffect(() => {
    const element = dialog.current;
    if (element === null) return;
    if (isOpen && !element.open) element.showModal();
    if (!isOpen && element.open) element.close();
  }, [isOpen]);

  function settle(isConfirmed: boolean) {
    waiting.current?.resolve(isConfirmed);
    waiting.current = null;
    setOpen(false);
  }

  return (
    // Esc and the Cancel button both close it; the close event gives up the action.
    <dialog ref={dialog} className="dialog card" aria-labelledby="reauth-title" aria-describedby="reauth-why" onClose={() => settle(false)}>
      {isOpen && (
        <>
          <h2 id="reauth-title">Confirm it’s you</h2>
          <p id="reauth-why" className="muted">
            This change needs a recent sign-in. Confirm who you are to go on; the action then runs.
          </p>
          {me.isPending ? (
            <p className="muted">Loading…</p>
          ) : me.isError ? (
            <ErrorNotice error={me.error} />
          ) : (
            <FactorForm
              factors={['password', ...me.data.session.methods]}
              verify={reauthenticate}
              onVerified={() => {
                // A used recovery code or passkey changes what the account pages show.
                void queryClient.invalidateQueries({ queryKey: queryKeys.me });
                settle(true);
              }}
              actions={
                <button type="button" className="button button-secondary" onClick={() => settle(false)}>
                  Cancel
                </button>
              }
            />
          )}
        </>
      )}
    </dialog>
  );
}
