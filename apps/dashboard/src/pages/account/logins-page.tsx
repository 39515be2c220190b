import { useInfiniteQuery } from '@tanstack/react-query';
import { myLoginsQuery } from '../../api/queries';
import { LoginHistory } from '../../components/login-history';
import { AccountNav } from '../../components/section-nav';
import { usePageTitle } from '../../lib/use-page-title';

export function MyLoginsPage() {
  const logins = useInfiniteQuery(myLoginsQuery);
  usePageTitle('Login history');
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Login history</h1>
          <p className="muted">Every attempt to sign in to your account, newest first. One you did not make? Change your password.</p>
        </div>
      </div>
      <AccountNav current="logins" />
      <LoginHistory query={logins} emptyText="No sign-ins recorded yet." />
    </>
  );
}
