import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { projectsQuery } from '../api/queries';
import { CheckboxField, RadioGroup } from './choice-field';
import { ErrorNotice } from './error-notice';

type Props = {
  orgId: string;
  /** null: every project, now and later. */
  value: string[] | null;
  onChange: (value: string[] | null) => void;
};

const SCOPES = [
  { value: 'all', label: 'All projects' },
  { value: 'some', label: 'Only these projects' },
] as const;

/** Which projects a member (or invitee) sees: all of them, or a chosen few. */
export function ProjectScopeField({ orgId, value, onChange }: Props) {
  const name = useId();
  const projects = useQuery(projectsQuery(orgId));
  const chosen = value ?? [];
  return (
    <div className="project-scope">
      <RadioGroup
        legend="Project access"
        name={name}
        inline
        value={value === null ? 'all' : 'some'}
        choices={SCOPES}
        onChange={(scope) => onChange(scope === 'all' ? null : chosen)}
      />
      {value !== null &&
        (projects.isPending ? (
          <p className="muted">Loading projects…</p>
        ) : projects.isError ? (
          <ErrorNotice error={projects.error} />
        ) : projects.data.items.length === 0 ? (
          <p className="muted">This organization has no projects yet.</p>
        ) : (
          <fieldset className="check-list">
            <legend className="visually-hidden">Projects</legend>
            {projects.data.items.map((project) => (
              <CheckboxField
                key={project.id}
                label={project.name}
                checked={chosen.includes(project.id)}
                onChange={(isChecked) =>
                  onChange(isChecked ? [...chosen, project.id] : chosen.filter((id) => id !== project.id))
                }
              />
            ))}
          </fieldset>
        ))}
    </div>
  );
}
