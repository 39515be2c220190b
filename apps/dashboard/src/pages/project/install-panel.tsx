import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { api } from '../../api/client';
import { queryKeys } from '../../api/queries';
import type { Project } from '../../api/types';
import { BusyButton } from '../../components/busy-button';
import { CopyButton } from '../../components/copy-button';
import { ErrorNotice } from '../../components/error-notice';
import { RevealBox } from '../../components/reveal-box';
import { SnippetBox } from '../../components/snippet-box';
import { formatHostCsp } from '../../lib/format';

/** The snippet, the CSP the host site needs, and where the widget's options are documented. */
export function InstallPanel({ project }: { project: Project }) {
  const id = useId();
  const csp = formatHostCsp(project.csp);
  return (
    <section className="card section" aria-labelledby="install-title">
      <h2 id="install-title">Install</h2>
      <SnippetBox snippet={project.snippet} projectKey={project.key} />
      <p className="hint">
        The <code>integrity</code> attribute lets browsers refuse a loader that was changed on the way (Subresource
        Integrity); copy the snippet again after upgrading Parley.
      </p>

      <div className="install-block">
        <div className="snippet-head">
          <span className="field-label" id={`${id}-csp`}>
            Content Security Policy
          </span>
          {csp !== '' && <CopyButton text={csp} label="Copy CSP" />}
        </div>
        {csp === '' ? (
          <p className="muted">The widget needs no extra CSP sources.</p>
        ) : (
          <>
            <pre className="code" aria-labelledby={`${id}-csp`} data-testid="project-csp" tabIndex={0}>
              {csp}
            </pre>
            <p className="hint">
              If your site sends a <code>Content-Security-Policy</code>, add these sources to its directives of the
              same name (keep your own). They follow the widget and protection settings: save those first.
            </p>
          </>
        )}
      </div>

      <div className="install-block">
        <h3>Options and JavaScript API</h3>
        <p className="hint">
          <code>data-*</code> attributes on the script tag set per-page options, and <code>window.Parley</code> lets your
          page open the dialog, attach metadata (<code>setMetadata</code>) or identify a signed-in user (
          <code>identify</code>).
        </p>
        <p className="hint docs-ref" data-testid="widget-docs">
          Widget documentation: <code>docs/widget.md</code> in your Parley installation
        </p>
      </div>
    </section>
  );
}

const NODE_SIGNING = `// On your server only: never send the secret to the browser.
import crypto from 'node:crypto';

const SECRET = process.env.PARLEY_IDENTITY_SECRET;
const signature =
  crypto.createHmac('sha256', SECRET).update(userId).digest('hex');

// Give userId and signature to the page, which calls:
// window.Parley.identify({ id: userId, signature });`;

/** Create or replace the secret that signs user ids; the new secret is shown once. */
export function IdentitySecretPanel({ orgId, project }: { orgId: string; project: Project }) {
  const queryClient = useQueryClient();
  const [isConfirming, setConfirming] = useState(false);
  const hasSecret = project.hasIdentitySecret;

  const create = useMutation({
    mutationFn: () => api.createIdentitySecret(orgId, project.id),
    // Keep the secret only while this panel shows it, not in the mutation cache.
    gcTime: 0,
    onSuccess: () => {
      setConfirming(false);
      queryClient.setQueryData<Project>(queryKeys.project(orgId, project.id), (old) =>
        old && { ...old, hasIdentitySecret: true },
      );
      void queryClient.invalidateQueries({ queryKey: queryKeys.project(orgId, project.id), exact: true });
    },
  });

  const secret = create.data?.secret;

  return (
    <section className="card section" aria-labelledby="identity-title">
      <div className="section-head">
        <h2 id="identity-title">Signed identity</h2>
        <span className={hasSecret ? 'badge badge-done' : 'badge badge-archived'} data-testid="identity-secret-status">
          {hasSecret ? 'Secret set' : 'No secret'}
        </span>
      </div>
      <p className="hint">
        Tell Parley which of your users sent the feedback, so nobody can send it in someone else’s name: your server
        signs the user’s id with this project’s secret, and feedback with a valid signature is marked{' '}
        <strong>verified</strong>.
      </p>

      {secret !== undefined && (
        <RevealBox
          label="Identity secret"
          value={secret}
          testId="identity-secret"
          copyLabel="Copy secret"
          note="Copy it now and keep it on your server (for example in an environment variable). It will not be shown again."
          doneLabel="I have stored it"
          onDone={() => create.reset()}
        />
      )}

      {isConfirming ? (
        <div className="confirm" role="group" aria-labelledby="identity-confirm">
          <p id="identity-confirm">
            <strong>Replace the identity secret?</strong> Signatures made with the current secret stop working at once:
            feedback carrying them is refused until your server signs with the new one.
          </p>
          <div className="form-actions">
            <BusyButton
              type="button"
              variant="danger"
              busy={create.isPending}
              busyLabel="Replacing…"
              onClick={() => create.mutate()}
            >
              Replace secret
            </BusyButton>
            <button type="button" className="button button-secondary" onClick={() => setConfirming(false)} autoFocus>
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <div className="form-actions">
          <BusyButton
            type="button"
            variant={hasSecret ? 'secondary' : 'primary'}
            busy={create.isPending}
            busyLabel="Generating…"
            onClick={() => {
              create.reset();
              if (hasSecret) setConfirming(true);
              else create.mutate();
            }}
          >
            {hasSecret ? 'Replace identity secret' : 'Generate identity secret'}
          </BusyButton>
        </div>
      )}
      <ErrorNotice error={create.error} />

      <div className="install-block">
        <div className="snippet-head">
          <span className="field-label" id="identity-code-label">
            Signing on your server (Node.js)
          </span>
          <CopyButton text={NODE_SIGNING} label="Copy code" />
        </div>
        <pre className="code" aria-labelledby="identity-code-label" tabIndex={0}>
          {NODE_SIGNING}
        </pre>
        <p className="hint">
          The signature is the hex HMAC-SHA256 of the exact id string you pass to <code>identify</code>. Turn on{' '}
          <em>Require a signed identity</em> in the widget settings to refuse anonymous feedback.
        </p>
      </div>
    </section>
  );
}
