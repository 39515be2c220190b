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
export function TextField({ label, hideLabel, hint, value, onChange, type = 'text', ...native }: TextFieldProps) {
  const control = useControl(hint, value, onChange);
  return (
    <Field control={control} label={label} hideLabel={hideLabel} hint={hint}>
      <input {...native} type={type} {...control} />
    </Field>
  );
}

/** A labelled multi-line text area. */
export function TextAreaField({ label, hideLabel, hint, value, onChange, ...native }: TextAreaFieldProps) {
  const control = useControl(hint, value, onChange);
  return (
    <Field control={control} label={label} hideLabel={hideLabel} hint={hint}>
      <textarea {...native} {...control} />
    </Field>
  );
}

type Control = ReturnType<typeof useControl>;

/** The props a field's control gets from the field: a stable id, the value, and the hint link. */
function useControl(hint: ReactNode, value: string, onChange: (value: string) => void) {
  const id = useId();
  return {
    id,
    value,
    onChange: (e: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => onChange(e.target.value),
    'aria-describedby': hint === undefined ? undefined : `${id}-hint`,
  };
}

type FrameProps = Pick<FieldProps, 'label' | 'hideLabel' | 'hint'> & { control: Control; children: ReactNode };

function Field({ control, label, hideLabel = false, hint, children }: FrameProps) {
  const hintId = control['aria-describedby'];
  return (
    <div className="field">
      <label htmlFor={control.id} className={hideLabel ? 'visually-hidden' : undefined}>
        {label}
      </label>
      {children}
      {hintId !== undefined && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
    </div>
  );
}
