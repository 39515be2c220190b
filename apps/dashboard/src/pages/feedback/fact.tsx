import type { ReactNode } from 'react';

/** One labelled value of a facts list (`<dl className="facts">`); an empty value shows a dash. */
export function Fact({ label, mono = false, children }: { label: string; mono?: boolean; children: ReactNode }) {
  const isEmpty = children === null || children === undefined || children === '';
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd className={mono && !isEmpty ? 'mono' : undefined}>{isEmpty ? <span className="muted">—</span> : children}</dd>
    </div>
  );
}
