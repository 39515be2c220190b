import { useEffect, useId, useRef, useState, type ReactNode } from 'react';

type Props = {
  title: string;
  /** What there is to see. */
  intro: ReactNode;
  buttonLabel: string;
  testId: string;
  /** Drawn only once asked for: mounting it is what reads (and records) the data. */
  children: () => ReactNode;
};

/**
 * A card whose content is personal data the server records each read of
 * (reporter details, screenshot): it stays closed until asked for, and
 * says before that the view lands in the audit log. Once open, the focus
 * moves to the content, since the button that had it is gone.
 */
export function AuditedReveal({ title, intro, buttonLabel, testId, children }: Props) {
  const id = useId();
  const [isOpen, setOpen] = useState(false);
  const content = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (isOpen) content.current?.focus();
  }, [isOpen]);

  return (
    <section className="card section" aria-labelledby={id} data-testid={testId}>
      <h2 id={id}>{title}</h2>
      {isOpen ? (
        <div ref={content} tabIndex={-1} className="reveal-content">
          <p className="hint">This view is recorded in the organization’s audit log.</p>
          {children()}
        </div>
      ) : (
        <>
          <p>{intro}</p>
          <p className="hint">Each view is recorded in the organization’s audit log, with your name and the time.</p>
          <button type="button" className="button button-secondary" onClick={() => setOpen(true)}>
            {buttonLabel}
          </button>
        </>
      )}
    </section>
  );
}
