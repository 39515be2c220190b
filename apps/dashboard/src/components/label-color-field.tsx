import { useId } from 'react';
import { TextField } from './text-field';

/** Colours that tell labels apart at a glance, each with a name for screen readers. */
export const LABEL_PALETTE = [
  { name: 'Red', color: '#d92d20' },
  { name: 'Orange', color: '#e8590c' },
  { name: 'Amber', color: '#f59f00' },
  { name: 'Green', color: '#2f9e44' },
  { name: 'Teal', color: '#0e9384' },
  { name: 'Blue', color: '#1c7ed6' },
  { name: 'Indigo', color: '#4c6ef5' },
  { name: 'Purple', color: '#7048e8' },
  { name: 'Pink', color: '#d6336c' },
  { name: 'Grey', color: '#667085' },
] as const;

export const isHexColor = (value: string) => /^#[0-9a-fA-F]{6}$/.test(value);

type Props = {
  value: string;
  onChange: (color: string) => void;
  /** Why the colour is refused (shown under the code field). */
  error?: string;
};

/**
 * A label's colour: one of the palette's (radio buttons drawn as swatches),
 * or any #rrggbb typed in. The swatches get their colour through the CSSOM
 * (React's style prop), which the dashboard's CSP allows.
 */
export function LabelColorField({ value, onChange, error }: Props) {
  const name = useId();
  return (
    <fieldset className="color-palette-field">
      <legend>Colour</legend>
      <div className="palette">
        {LABEL_PALETTE.map((choice) => (
          <label key={choice.color} className="palette-choice" title={choice.name}>
            <input
              type="radio"
              name={name}
              value={choice.color}
              checked={value.toLowerCase() === choice.color}
              onChange={() => onChange(choice.color)}
            />
            <span className="palette-swatch" style={{ backgroundColor: choice.color }} aria-hidden="true" />
            <span className="visually-hidden">{choice.name}</span>
          </label>
        ))}
      </div>
      <TextField
        label="Colour code"
        name={`${name}-hex`}
        autoComplete="off"
        spellCheck={false}
        maxLength={7}
        value={value}
        onChange={(text) => onChange(text.trim())}
        error={error}
        hint="Or any colour as #rrggbb."
      />
    </fieldset>
  );
}
