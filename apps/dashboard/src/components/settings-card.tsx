import { useId, type ReactNode } from 'react';

/** One titled group of a settings form, named by its heading for assistive technology. */
export function SettingsCard({ title, intro, children }: { title: string; intro?: string; children: ReactNode }) {
  const id = useId();
  return (
    <section className="card section settings-card" aria-labelledby={id}>
      <h3 id={id}>{title}</h3>
      {intro !== undefined && <p className="hint">{intro}</p>}
      <div className="form">{children}</div>
    </section>
  );
}
