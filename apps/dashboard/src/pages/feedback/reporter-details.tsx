import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { screenshotUrl } from '../../api/client';
import { reporterQuery } from '../../api/queries';
import type { ConsoleError, Reporter } from '../../api/types';
import { ErrorNotice } from '../../components/error-notice';
import { AuditedReveal } from './audited-reveal';
import { Fact } from './fact';

/** The reporter's personal data, read (and recorded in the audit log) only when asked for. */
export function ReporterDetails({ orgId, feedbackId }: { orgId: string; feedbackId: string }) {
  return (
    <AuditedReveal
      title="Reporter details"
      intro="What the reporter’s browser sent about them: e-mail, IP address, browser, identity, custom fields, metadata and console errors."
      buttonLabel="Show reporter details"
      testId="reporter-section"
    >
      {() => <ReporterData orgId={orgId} feedbackId={feedbackId} />}
    </AuditedReveal>
  );
}

function ReporterData({ orgId, feedbackId }: { orgId: string; feedbackId: string }) {
  const reporter = useQuery(reporterQuery(orgId, feedbackId));
  if (reporter.isPending) return <p className="muted">Loading reporter details…</p>;
  if (reporter.isError) return <ErrorNotice error={reporter.error} />;
  const data = reporter.data;
  return (
    <>
      <Identity identity={data.identity} />
      <dl className="facts" data-testid="reporter-details">
        <Fact label="E-mail">{data.email}</Fact>
        <Fact label="Consent">{consentLabel(data.consent)}</Fact>
        <Fact label="Browser">{data.browser}</Fact>
        <Fact label="OS">{data.os}</Fact>
        <Fact label="User agent" mono>
          {data.userAgent}
        </Fact>
        <Fact label="IP address" mono>
          {data.ip}
        </Fact>
      </dl>
      <h3>Custom fields</h3>
      <KeyValueTable entries={Object.entries(data.custom)} keyLabel="Field" testId="custom-fields" />
      <h3>Metadata</h3>
      <KeyValueTable entries={Object.entries(data.metadata)} keyLabel="Key" testId="metadata" />
      <h3>
        Console errors{data.consoleErrors.length > 0 && <span className="count">{data.consoleErrors.length}</span>}
      </h3>
      <ConsoleErrors errors={data.consoleErrors} />
    </>
  );
}

function consentLabel(consent: boolean | null): string {
  if (consent === null) return 'Not asked';
  return consent ? 'Given' : 'Not given';
}

/** Who sent it, as the page told the widget; "verified" only when the id was signed with the project's secret. */
function Identity({ identity }: { identity: Reporter['identity'] }) {
  if (identity === null) {
    return (
      <p className="muted" data-testid="reporter">
        Not identified by the page.
      </p>
    );
  }
  return (
    <div data-testid="reporter" className="reporter-identity">
      <p className="reporter-badge">
        {identity.verified ? (
          <span className="badge badge-verified" data-testid="identity-verified">
            ✓ Verified
          </span>
        ) : (
          <span className="badge badge-archived" title="The page named this user without a valid signature">
            Not verified
          </span>
        )}
      </p>
      <dl className="facts facts-compact">
        <Fact label="User ID" mono>
          {identity.id}
        </Fact>
        <Fact label="Name">{identity.name}</Fact>
        <Fact label="User e-mail">{identity.email}</Fact>
      </dl>
      {!identity.verified && <p className="hint">Unsigned: anyone on the page could have set these values.</p>}
    </div>
  );
}

/** Sent key/value pairs (metadata, custom fields) as a table; non-text values in monospace. */
function KeyValueTable({ entries, keyLabel, testId }: { entries: [string, string | number | boolean][]; keyLabel: string; testId: string }) {
  if (entries.length === 0) return <p className="muted">None sent.</p>;
  return (
    <table className="table" data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">{keyLabel}</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th scope="row" className="mono">
              {key}
            </th>
            <td className={typeof value === 'string' ? undefined : 'mono'}>{String(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ConsoleErrors({ errors }: { errors: ConsoleError[] }) {
  if (errors.length === 0) return <p className="muted">None sent.</p>;
  return (
    <ol className="console-errors" data-testid="console-errors">
      {errors.map((error, index) => (
        <li key={index}>
          <details>
            <summary>
              <span className="mono">{error.message}</span>
            </summary>
            {error.stack === null || error.stack === '' ? <p className="muted">No stack trace.</p> : <pre className="code stack">{error.stack}</pre>}
          </details>
        </li>
      ))}
    </ol>
  );
}

/** The screenshot, loaded from the API on the same origin (the session cookie goes along) once asked for. */
export function Screenshot({ orgId, feedbackId }: { orgId: string; feedbackId: string }) {
  return (
    <AuditedReveal
      title="Screenshot"
      intro="The reporter sent a screenshot of the page with this feedback."
      buttonLabel="Show screenshot"
      testId="screenshot-section"
    >
      {() => <ScreenshotImage src={screenshotUrl(orgId, feedbackId)} />}
    </AuditedReveal>
  );
}

function ScreenshotImage({ src }: { src: string }) {
  const [hasFailed, setFailed] = useState(false);
  if (hasFailed) {
    return (
      <p className="notice notice-error" role="alert">
        The screenshot could not be loaded.
      </p>
    );
  }
  return (
    <>
      <a href={src} target="_blank" rel="noopener noreferrer" className="screenshot-link" data-testid="screenshot-link">
        <img src={src} alt="Screenshot sent with this feedback" className="screenshot" onError={() => setFailed(true)} />
      </a>
      <p className="hint">Select the image to open it full size in a new tab (recorded as another view).</p>
    </>
  );
}
