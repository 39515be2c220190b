import type { ReactNode } from 'react';
import { BusyButton } from './busy-button';
import { ErrorNotice } from './error-notice';

/** The save mutation's state, as TanStack Query's useMutation reports it. */
type SaveState = { error: unknown; isPending: boolean; isSuccess: boolean };

type SaveActionsProps = {
  save: SaveState;
  isChanged: boolean;
  /** The submit button's text, e.g. "Save domains". */
  label: string;
  /** Another reason to keep the button disabled (besides nothing changed). */
  disabled?: boolean;
  /** Test id of the status line that says "Saved". */
  statusTestId?: string;
  /** Shown after the status. */
  children?: ReactNode;
};

/**
 * A settings form's submit button, usable only once something changed, and
 * a live region that says "Saved" (so a screen reader hears it) until the
 * form is changed again.
 */
export function SaveActions({ save, isChanged, label, disabled = false, statusTestId, children }: SaveActionsProps) {
  return (
    <div className="form-actions">
      <BusyButton busy={save.isPending} busyLabel="Saving…" disabled={!isChanged || disabled}>
        {label}
      </BusyButton>
      <span className="save-status" role="status" data-testid={statusTestId}>
        {save.isSuccess && !isChanged ? 'Saved' : ''}
      </span>
      {children}
    </div>
  );
}

type SaveBarProps = {
  save: SaveState;
  isChanged: boolean;
  label: string;
  statusTestId: string;
  /** What keeps the form from saving (its field problems), shown above the server's error. */
  children?: ReactNode;
};

/**
 * The foot of a long settings form, kept in view while scrolling (see
 * .save-bar): why it cannot save, the server's refusal, the save actions,
 * and a reminder while changes are unsaved.
 */
export function SaveBar({ save, isChanged, label, statusTestId, children }: SaveBarProps) {
  return (
    <div className="save-bar">
      {children}
      <ErrorNotice error={save.error} />
      <SaveActions save={save} isChanged={isChanged} label={label} statusTestId={statusTestId}>
        {isChanged && !save.isPending && <span className="muted">Unsaved changes</span>}
      </SaveActions>
    </div>
  );
}
