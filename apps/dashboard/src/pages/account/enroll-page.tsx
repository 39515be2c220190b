import { useSuspenseQuery } from '@tanstack/react-query';
import { getRouteApi, useRouter } from '@tanstack/react-router';
import { useState } from 'react';
import { meQuery } from '../../api/queries';
import { AuthPage } from '../../components/auth-page';
import { BusyButton } from '../../components/busy-button';
import { PasskeySetup } from '../../components/passkey-setup';
import { RecoveryCodes } from '../../components/recovery-codes';
import { TotpSetup } from '../../components/totp-setup';
import { safeReturnPath } from '../../lib/return-to';
import { useLogOut } from '../../lib/use-log-out';
import { usePageTitle } from '../../lib/use-page-title';

const route = getRouteApi('/account/enroll');

/**
 * An organization of this user requires two-factor authentication and the
 * account has none: set up an app or a passkey, save the recovery codes, go on.
 */
export function EnrollPage() {
  const { return_to: returnTo } = route.useSearch();
  const { data: me } = useSuspenseQuery(meQuery);
  const router = useRouter();
  // null: not enrolled yet; []: enrolled, no codes to show.
  const [codes, setCodes] = useState<string[] | null>(null);
  usePageTitle('Set up two-factor authentication');

  const requiring = me.organizations.filter((org) => org.requireMfa).map((org) => org.name);
  const onEnrolled = (recoveryCodes: string[] | null) => setCodes(recoveryCodes ?? []);

  const logOut = useLogOut();

  return (
    <AuthPage wide>
      {codes === null ? (
        <>
          <h1>Set up two-factor authentication</h1>
          <p className="muted">
            {requiring.length > 0 ? requiring.join(', ') : 'Your organization'} requires a second factor for every
            member. Add one to go on.
          </p>
          <section className="subsection" aria-labelledby="enroll-passkey">
            <h2 id="enroll-passkey">A passkey</h2>
            <p className="hint">This device’s fingerprint or face unlock, your phone, or a security key.</p>
            <PasskeySetup onAdded={onEnrolled} />
          </section>
          <section className="subsection" aria-labelledby="enroll-totp">
            <h2 id="enroll-totp">Or an authenticator app</h2>
            <TotpSetup onEnabled={onEnrolled} />
          </section>
          <p className="auth-foot">
            <BusyButton type="button" variant="secondary" className="button-small" busy={logOut.isPending} busyLabel="Logging out…" onClick={() => logOut.mutate()}>
              Log out
            </BusyButton>
          </p>
        </>
      ) : (
        <>
          <h1>Two-factor authentication is on</h1>
          {codes.length > 0 ? (
            <RecoveryCodes codes={codes} doneLabel="Continue" onDone={() => router.history.push(safeReturnPath(returnTo))} />
          ) : (
            <button type="button" className="button button-primary" autoFocus onClick={() => router.history.push(safeReturnPath(returnTo))}>
              Continue
            </button>
          )}
        </>
      )}
    </AuthPage>
  );
}
