import { useId, type ReactNode } from 'react';

// Labelled checkboxes, selects and radio groups, siblings of TextField: the
// id is generated and the hint is linked to the control with aria-describedby.

type CheckboxFieldProps = {
  label: string;
  hint?: ReactNode;
  checked: boolean;
  onChange: (checked: boolean) => void;
  disabled?: boolean;
  name?: string;
};

/** A checkbox with its label beside it and an optional hint under the label. */
export function CheckboxField({ label, hint, checked, onChange, disabled, name }: CheckboxFieldProps) {
  const id = useId();
  const hintId = hint === undefined ? undefined : `${id}-hint`;
  return (
    <div className="check">
      <input
        type="checkbox"
        id={id}
        name={name}
        checked={checked}
        disabled={disabled}
        aria-describedby={hintId}
        onChange={(e) => onChange(e.target.checked)}
      />
      <div className="check-text">
        <label htmlFor={id}>{label}</label>
        {hintId !== undefined && (
          <p className="hint" id={hintId}>
            {hint}
          </p>
        )}
      </div>
    </div>
  );
}

export type Choice<T extends string> = { value: T; label: string; hint?: string };

type SelectFieldProps<T extends string> = {
  label: string;
  /** Keeps the label for screen readers only (e.g. in a table row that a column heading names). */
  hideLabel?: boolean;
  hint?: ReactNode;
  value: T;
  choices: readonly Choice<T>[];
  onChange: (value: T) => void;
  name?: string;
  disabled?: boolean;
};

/** A labelled drop-down; `choices` are the only values it can produce. */
export function SelectField<T extends string>({ label, hideLabel = false, hint, value, choices, onChange, name, disabled }: SelectFieldProps<T>) {
  const id = useId();
  const hintId = hint === undefined ? undefined : `${id}-hint`;
  return (
    <div className="field">
      <label htmlFor={id} className={hideLabel ? 'visually-hidden' : undefined}>
        {label}
      </label>
      <select
        id={id}
        name={name}
        value={value}
        disabled={disabled}
        aria-describedby={hintId}
        onChange={(e) => {
          const choice = choices.find((c) => c.value === e.target.value);
          if (choice !== undefined) onChange(choice.value);
        }}
      >
        {choices.map((choice) => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </select>
      {hintId !== undefined && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
    </div>
  );
}

type RadioGroupProps<T extends string> = {
  legend: string;
  value: T;
  choices: readonly Choice<T>[];
  onChange: (value: T) => void;
  name: string;
  disabled?: boolean;
  /** Lay the choices out in a row (short labels without hints). */
  inline?: boolean;
};

/** A fieldset of radio buttons; each choice may carry a one-line hint. */
export function RadioGroup<T extends string>({ legend, value, choices, onChange, name, disabled, inline = false }: RadioGroupProps<T>) {
  const id = useId();
  return (
    <fieldset className={inline ? 'radio-group radio-group-inline' : 'radio-group'} disabled={disabled}>
      <legend>{legend}</legend>
      {choices.map((choice) => {
        const optionId = `${id}-${choice.value}`;
        return (
          <div className="radio" key={choice.value}>
            <input
              type="radio"
              id={optionId}
              name={name}
              value={choice.value}
              checked={value === choice.value}
              aria-describedby={choice.hint === undefined ? undefined : `${optionId}-hint`}
              onChange={() => onChange(choice.value)}
            />
            <div className="check-text">
              <label htmlFor={optionId}>{choice.label}</label>
              {choice.hint !== undefined && (
                <p className="hint" id={`${optionId}-hint`}>
                  {choice.hint}
                </p>
              )}
            </div>
          </div>
        );
      })}
    </fieldset>
  );
}
