import { useMutation } from '@tanstack/react-query';
import { useRef, useState, type FormEvent, type ReactNode, type Ref } from 'react';
import type { SecondFactor } from '../api/types';
import { BusyButton } from './busy-button';
import { RadioGroup, type Choice } from './choice-field';
import { ErrorNotice } from './error-notice';
import { TextField } from './text-field';

export type Factor = 'password' | SecondFactor;

/** What the person gave; the passkey's signature is fetched by `verify` itself. */
export type Proof =
  | { factor: 'password'; password: string }
  | { factor: 'totp'; code: string }
  | { factor: 'recovery'; code: string }
  | { factor: 'webauthn' };

const FACTOR_CHOICES: Record<Factor, Choice<Factor>> = {
  password: { value: 'password', label: 'Password' },
  totp: { value: 'totp', label: 'Authenticator app' },
  webauthn: { value: 'webauthn', label: 'Passkey' },
  recovery: { value: 'recovery', label: 'Recovery code' },
};

type Props<F extends Factor, T> = {
  /** The ways offered, in this order (at least one); the first is chosen at the start. */
  factors: readonly F[];
  verify: (proof: Extract<Proof, { factor: F }>) => Promise<T>;
  onVerified: (result: T) => void;
  /** Extra buttons beside the submit button (cancel, start over). */
  actions?: ReactNode;
};

/**
 * Asks for one factor: a password, a code from the authenticator app, a
 * passkey or a recovery code. Shared by the log-in's second step and the
 * re-authentication dialog, which differ only in where the proof goes.
 */
export function FactorForm<F extends Factor, T>({ factors, verify, onVerified, actions }: Props<F, T>) {
  const [factor, setFactor] = useState<F>(factors[0]!);
  const [text, setText] = useState('');
  // Focus the field at the start only: moving it while someone arrows through the choices would trap them.
  const [hasSwitched, setSwitched] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const check = useMutation({
    // The form only builds proofs for the factors it offers.
    mutationFn: (proof: Proof) => verify(proof as Extract<Proof, { factor: F }>),
    onSuccess: (result) => {
      setText('');
      onVerified(result);
    },
    // A refused code is usually retyped: empty the field and put the cursor back.
    onError: () => {
      if (factor === 'password') return;
      setText('');
      input.current?.focus();
    },
  });

  function choose(next: F) {
    setFactor(next);
    setText('');
    setSwitched(true);
    check.reset();
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const value = text.trim();
    check.mutate(
      factor === 'password'
        ? { factor, password: text }
        : factor === 'webauthn'
          ? { factor }
          : { factor, code: value },
    );
  }

  const isMultiple = factors.length > 1;
  return (
    <form onSubmit={submit} className="form">
      {isMultiple && (
        <RadioGroup
          legend="Confirm with"
          name="factor"
          inline
          value={factor}
          choices={factors.map((f) => FACTOR_CHOICES[f] as Choice<F>)}
          onChange={choose}
          disabled={check.isPending}
        />
      )}
      {factor === 'password' && (
        <TextField
          ref={input}
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          autoFocus={!hasSwitched}
          value={text}
          onChange={setText}
        />
      )}
      {factor === 'totp' && <TotpCodeField ref={input} autoFocus={!hasSwitched} value={text} onChange={setText} />}
      {factor === 'recovery' && (
        <TextField
          ref={input}
          label="Recovery code"
          name="recovery-code"
          type="text"
          autoComplete="off"
          autoCapitalize="off"
          spellCheck={false}
          required
          autoFocus={!hasSwitched}
          value={text}
          onChange={setText}
          hint="One of the codes you saved when you set up two-factor authentication. Each works once."
        />
      )}
      {factor === 'webauthn' && (
        <p className="hint">Your browser will ask for the passkey on this device, your phone or a security key.</p>
      )}
      <ErrorNotice error={check.error} />
      <div className="form-actions">
        <BusyButton busy={check.isPending} busyLabel={factor === 'webauthn' ? 'Waiting for the passkey…' : 'Checking…'} autoFocus={factor === 'webauthn' && !hasSwitched}>
          {factor === 'webauthn' ? 'Use a passkey' : 'Continue'}
        </BusyButton>
        {actions}
      </div>
    </form>
  );
}

type TotpCodeFieldProps = {
  value: string;
  onChange: (value: string) => void;
  autoFocus?: boolean;
  ref?: Ref<HTMLInputElement>;
};

/** The 6-digit code of an authenticator app (signing in, confirming, setting the app up). */
export function TotpCodeField({ value, onChange, autoFocus, ref }: TotpCodeFieldProps) {
  return (
    <TextField
      ref={ref}
      label="Code from your authenticator app"
      name="code"
      type="text"
      inputMode="numeric"
      autoComplete="one-time-code"
      pattern="[0-9]{6}"
      title="The 6 digits your app shows"
      required
      autoFocus={autoFocus}
      value={value}
      // Apps show the code as "123 456"; a pasted space must not count.
      onChange={(text) => onChange(text.replace(/\s/g, ''))}
      hint="The 6-digit code the app shows for Parley now."
    />
  );
}
