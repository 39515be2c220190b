import { TextField } from './text-field';

// The server's password policy (apps/server/src/auth/passwords.ts); it checks again.
const PASSWORD_MIN = 12;
const PASSWORD_MAX = 128;

type Props = {
  label?: string;
  value: string;
  onChange: (value: string) => void;
  autoFocus?: boolean;
};

/** A field for choosing a password: the policy as its hint, counting down to the minimum length. */
export function NewPasswordField({ label = 'Password', value, onChange, autoFocus }: Props) {
  const length = Array.from(value).length;
  return (
    <TextField
      label={label}
      name="new-password"
      type="password"
      autoComplete="new-password"
      required
      minLength={PASSWORD_MIN}
      maxLength={PASSWORD_MAX}
      autoFocus={autoFocus}
      value={value}
      onChange={onChange}
      hint={
        <>
          {PASSWORD_MIN}–{PASSWORD_MAX} characters. A long passphrase is best; common passwords are refused.
          {length > 0 && length < PASSWORD_MIN && <> ({PASSWORD_MIN - length} more needed)</>}
        </>
      }
    />
  );
}
