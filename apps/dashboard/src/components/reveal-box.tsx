import { useId, type ReactNode } from 'react';
import { CopyButton } from './copy-button';

type Props = {
  label: string;
  value: string;
  /** Why this matters now (shown once, who may use it); announced when it appears. */
  note: string;
  copyLabel: string;
  doneLabel: string;
  onDone: () => void;
  testId?: string;
  /** More about the value (how to use it), shown before the button that closes the box. */
  children?: ReactNode;
};

/** A value the server shows only once (a secret, an invitation link): selected, with copy and a warning. */
export function RevealBox({ label, value, note, copyLabel, doneLabel, onDone, testId, children }: Props) {
  const id = useId();
  return (
    <div className="secret-reveal">
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <div className="secret-row">
          <input
            id={id}
            type="text"
            readOnly
            value={value}
            spellCheck={false}
            autoComplete="off"
            className="mono"
            data-testid={testId}
            aria-describedby={`${id}-note`}
            autoFocus
            onFocus={(e) => e.target.select()}
          />
          <CopyButton text={value} label={copyLabel} />
        </div>
      </div>
      <p className="notice notice-warning" id={`${id}-note`} role="alert">
        {note}
      </p>
      {children}
      <button type="button" className="button button-secondary button-small" onClick={onDone}>
        {doneLabel}
      </button>
    </div>
  );
}
