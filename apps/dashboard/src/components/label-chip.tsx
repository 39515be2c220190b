import type { ReactNode } from 'react';
import type { Label } from '../api/types';

type ChipLabel = Pick<Label, 'name' | 'color'>;

/**
 * A label as a chip: its colour as a swatch beside its name. The name keeps
 * the page's text colour, so it stays readable whatever colour was chosen.
 * The swatch's colour is set through the CSSOM (React's style prop), which
 * the dashboard's CSP allows, unlike a style attribute in markup.
 */
export function LabelChip({ label, children }: { label: ChipLabel; children?: ReactNode }) {
  return (
    <span className="label-chip" data-testid="label-chip">
      <span className="label-swatch" style={{ backgroundColor: label.color }} aria-hidden="true" />
      <span className="label-name">{label.name}</span>
      {children}
    </span>
  );
}

/** The chips of the labels `ids` names, in the organization's order (by name); ids it does not know are left out. */
export function LabelChips({ ids, labels }: { ids: readonly string[]; labels: readonly Label[] }) {
  const shown = labels.filter((label) => ids.includes(label.id));
  if (shown.length === 0) return null;
  return (
    <span className="label-chips">
      {shown.map((label) => (
        <LabelChip key={label.id} label={label} />
      ))}
    </span>
  );
}
