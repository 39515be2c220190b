import type { ReactNode } from 'react';

/** The signed-out frame (log in, set up): the Parley mark over one centred card. */
export function AuthPage({ wide = false, children }: { wide?: boolean; children: ReactNode }) {
  return (
    <main className="auth-page">
      <div className="auth-brand">
        <span className="brand-mark" aria-hidden="true" />
        Parley
      </div>
      <div className={wide ? 'card auth-card auth-card-wide' : 'card auth-card'}>{children}</div>
    </main>
  );
}
