import { useId, type InputHTMLAttributes, type ReactNode, type TextareaHTMLAttributes } from 'react';

type FieldProps = {
  label: string;
  /** Keeps the label for screen readers only, where a heading already shows it. */
  hideLabel?: boolean;
  /** Help text under the control, linked to it with aria-describedby. */
  hint?: ReactNode;
  value: string;
  onChange: (value: string) => void;
};

/** Native attributes (name, autoComplete, required, maxLength, …) pass through; the id is generated. */
type Native<Attributes> = Omit<Attributes, 'id' | 'value' | 'onChange' | 'aria-describedby' | 'children'> & {
  name: string;
};

export type TextFieldProps = FieldProps & Native<InputHTMLAttributes<HTMLInputElement>>;
export type TextAreaFieldProps = FieldProps & Native<TextareaHTMLAttributes<HTMLTextAreaElement>>;

/** A labelled single-line input. */
export function TextField({ label, hideLabel, hint, value, onChange, type = 'text', ...native }: TextFieldProps) {
  const ids = useFieldIds(hint);
  return (
    <Field ids={ids} label={label} hideLabel={hideLabel} hint={hint}>
      <input
        {...native}
        id={ids.control}
        type={type}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-describedby={ids.hint}
      />
    </Field>
  );
}

/** A labelled multi-line text area. */
export function TextAreaField({ label, hideLabel, hint, value, onChange, ...native }: TextAreaFieldProps) {
  const ids = useFieldIds(hint);
  return (
    <Field ids={ids} label={label} hideLabel={hideLabel} hint={hint}>
      <textarea
        {...native}
        id={ids.control}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-describedby={ids.hint}
      />
    </Field>
  );
}

type FieldIds = { control: string; hint: string | undefined };

function useFieldIds(hint: ReactNode): FieldIds {
  const id = useId();
  return { control: id, hint: hint === undefined ? undefined : `${id}-hint` };
}

type FrameProps = Pick<FieldProps, 'label' | 'hideLabel' | 'hint'> & { ids: FieldIds; children: ReactNode };

function Field({ ids, label, hideLabel = false, hint, children }: FrameProps) {
  return (
    <div className="field">
      <label htmlFor={ids.control} className={hideLabel ? 'visually-hidden' : undefined}>
        {label}
      </label>
      {children}
      {ids.hint !== undefined && (
        <p className="hint" id={ids.hint}>
          {hint}
        </p>
      )}
    </div>
  );
}
