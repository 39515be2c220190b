import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { BusyButton } from './busy-button';
import { ErrorNotice } from './error-notice';

type Props = {
  label: string;
  busyLabel: string;
  /** The request; its failure is shown under the button. */
  run: () => Promise<unknown>;
  variant?: 'primary' | 'secondary' | 'danger';
  small?: boolean;
  /** Ask first: the question and the label of the button that goes ahead. */
  confirm?: { question: ReactNode; confirmLabel: string };
  /** Said (in a live region) once the request succeeded, for a button that stays, e.g. "Test event queued". */
  done?: string;
};

/**
 * One button for one request (end a session, revoke an invite, remove a
 * passkey), busy while it runs, optionally asking first. Cancelling the
 * question puts the focus back on the button that asked it.
 */
export function ActionButton({ label, busyLabel, run, variant = 'secondary', small = true, confirm, done }: Props) {
  const [isAsking, setAsking] = useState(false);
  const trigger = useRef<HTMLButtonElement>(null);
  const shouldRefocus = useRef(false);
  const action = useMutation({ mutationFn: run, onSuccess: () => setAsking(false) });

  useEffect(() => {
    if (!isAsking && shouldRefocus.current) {
      shouldRefocus.current = false;
      trigger.current?.focus();
    }
  }, [isAsking]);

  const size = small ? 'button-small' : undefined;
  return (
    <div className="action">
      {isAsking && confirm !== undefined ? (
        <div className="confirm" role="group" aria-label={label}>
          <p>{confirm.question}</p>
          <div className="form-actions">
            <BusyButton type="button" variant="danger" className={size} busy={action.isPending} busyLabel={busyLabel} onClick={() => action.mutate()}>
              {confirm.confirmLabel}
            </BusyButton>
            {/* The safe choice has the focus, so Enter keeps things as they are. */}
            <button
              type="button"
              className={['button', 'button-secondary', size].filter(Boolean).join(' ')}
              autoFocus
              onClick={() => {
                shouldRefocus.current = true;
                action.reset();
                setAsking(false);
              }}
            >
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <BusyButton
          ref={trigger}
          type="button"
          variant={variant}
          className={size}
          busy={action.isPending}
          busyLabel={busyLabel}
          onClick={() => (confirm === undefined ? action.mutate() : setAsking(true))}
        >
          {label}
        </BusyButton>
      )}
      {done !== undefined && (
        <span className="save-status" role="status">
          {action.isSuccess ? done : ''}
        </span>
      )}
      <ErrorNotice error={action.error} />
    </div>
  );
}
