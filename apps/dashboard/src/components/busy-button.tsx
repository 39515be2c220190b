import type { ButtonHTMLAttributes, Ref } from 'react';

type Props = ButtonHTMLAttributes<HTMLButtonElement> & {
  busy: boolean;
  busyLabel: string;
  variant?: 'primary' | 'secondary' | 'danger';
  ref?: Ref<HTMLButtonElement>;
};

/** A button that is disabled and says what it is doing while a request runs. */
export function BusyButton({ busy, busyLabel, variant = 'primary', children, className, disabled, ...rest }: Props) {
  return (
    <button
      type="submit"
      {...rest}
      className={['button', `button-${variant}`, className].filter(Boolean).join(' ')}
      disabled={busy || disabled}
      aria-busy={busy}
    >
      {busy ? (
        <>
          <span className="spinner" aria-hidden="true" />
          {busyLabel}
        </>
      ) : (
        children
      )}
    </button>
  );
}
