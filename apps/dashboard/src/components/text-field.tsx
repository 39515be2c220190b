import {
  useId,
  type ChangeEvent,
  type InputHTMLAttributes,
  type ReactNode,
  type Ref,
  type TextareaHTMLAttributes,
} from 'react';

type FieldProps = {
  label: string;
  /** Keeps the label for screen readers only, where a heading already shows it. */
  hideLabel?: boolean;
  /** Help text under the control, linked to it with aria-describedby. */
  hint?: ReactNode;
  /** Why the value is refused, under the control; marks it invalid and is read with it. */
  error?: string;
  value: string;
  onChange: (value: string) => void;
};

/** Native attributes (name, autoComplete, required, maxLength, …) pass through; the id is generated. */
type Native<Attributes> = Omit<Attributes, 'id' | 'value' | 'onChange' | 'aria-describedby' | 'children'> & {
  name: string;
};

export type TextFieldProps = FieldProps &
  Native<InputHTMLAttributes<HTMLInputElement>> & {
    /** The input itself, e.g. to focus it again after a refused code. */
    ref?: Ref<HTMLInputElement>;
  };
export type TextAreaFieldProps = FieldProps & Native<TextareaHTMLAttributes<HTMLTextAreaElement>>;

/** A labelled single-line input. */
export function TextField({ label, hideLabel, hint, error, value, onChange, type = 'text', ...native }: TextFieldProps) {
  const control = useControl(hint, error, value, onChange);
  return (
    <Field control={control} label={label} hideLabel={hideLabel} hint={hint} error={error}>
      <input {...native} type={type} {...control} />
    </Field>
  );
}

/** A labelled multi-line text area. */
export function TextAreaField({ label, hideLabel, hint, error, value, onChange, ...native }: TextAreaFieldProps) {
  const control = useControl(hint, error, value, onChange);
  return (
    <Field control={control} label={label} hideLabel={hideLabel} hint={hint} error={error}>
      <textarea {...native} {...control} />
    </Field>
  );
}

type Control = ReturnType<typeof useControl>;

/** The props a field's control gets from the field: a stable id, the value, and the error and hint links. */
function useControl(hint: ReactNode, error: string | undefined, value: string, onChange: (value: string) => void) {
  const id = useId();
  const describedBy = [error === undefined ? '' : `${id}-error`, hint === undefined ? '' : `${id}-hint`].filter(Boolean).join(' ');
  return {
    id,
    value,
    onChange: (e: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => onChange(e.target.value),
    'aria-describedby': describedBy === '' ? undefined : describedBy,
    'aria-invalid': error === undefined ? undefined : true,
  };
}

type FrameProps = Pick<FieldProps, 'label' | 'hideLabel' | 'hint' | 'error'> & { control: Control; children: ReactNode };

function Field({ control, label, hideLabel = false, hint, error, children }: FrameProps) {
  return (
    <div className="field">
      <label htmlFor={control.id} className={hideLabel ? 'visually-hidden' : undefined}>
        {label}
      </label>
      {children}
      {error !== undefined && (
        <p className="field-error" id={`${control.id}-error`}>
          {error}
        </p>
      )}
      {hint !== undefined && (
        <p className="hint" id={`${control.id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}
