import { useMutation, useQuery, useQueryClient, useSuspenseQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { meQuery, projectsQuery, queryKeys } from '../api/queries';
import type { Membership, Project } from '../api/types';
import { BusyButton } from '../components/busy-button';
import { ErrorNotice } from '../components/error-notice';
import { OrgNav } from '../components/section-nav';
import { SnippetBox } from '../components/snippet-box';
import { TextAreaField, TextField } from '../components/text-field';
import { formatDateTime, parseDomains } from '../lib/format';
import { usePageTitle } from '../lib/use-page-title';

const route = getRouteApi('/authenticated/');

export function HomePage() {
  const { data: me } = useSuspenseQuery(meQuery);
  const { org: orgParam } = route.useSearch();
  const navigate = route.useNavigate();
  const org = me.organizations.find((o) => o.id === orgParam) ?? me.organizations[0];
  usePageTitle('Projects');

  if (org === undefined) {
    return (
      <div className="empty" data-testid="no-organizations">
        <h1>No organization yet</h1>
        <p>Your account is not a member of any organization. Ask an administrator to invite you.</p>
      </div>
    );
  }

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Projects</h1>
          <p className="muted">Each project has its own widget key, allowed domains and inbox.</p>
        </div>
        <OrgPicker
          organizations={me.organizations}
          selected={org}
          onSelect={(id) => void navigate({ search: { org: id } })}
        />
      </div>
      <OrgNav orgId={org.id} current="projects" />
      <ProjectList org={org} />
      <NewProject org={org} />
    </>
  );
}

type OrgPickerProps = {
  organizations: Membership[];
  selected: Membership;
  onSelect: (orgId: string) => void;
};

function OrgPicker({ organizations, selected, onSelect }: OrgPickerProps) {
  if (organizations.length < 2) {
    return (
      <p className="org-current" data-testid="current-org">
        <span className="muted">Organization</span> <strong>{selected.name}</strong>
      </p>
    );
  }
  return (
    <div className="field field-inline">
      <label htmlFor="org-select">Organization</label>
      <select id="org-select" value={selected.id} onChange={(e) => onSelect(e.target.value)}>
        {organizations.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name}
          </option>
        ))}
      </select>
    </div>
  );
}

function ProjectList({ org }: { org: Membership }) {
  const projects = useQuery(projectsQuery(org.id));

  if (projects.isPending) return <p className="muted">Loading projects…</p>;
  if (projects.isError) return <ErrorNotice error={projects.error} />;
  if (projects.data.items.length === 0) {
    return (
      <div className="empty" data-testid="no-projects">
        <p>
          <strong>No projects yet.</strong> Create one below to get the snippet that adds the
          feedback widget to your site.
        </p>
      </div>
    );
  }
  return (
    <ul className="project-list" data-testid="project-list">
      {projects.data.items.map((project) => (
        <li key={project.id}>
          <Link
            to="/orgs/$orgId/projects/$projectId"
            params={{ orgId: org.id, projectId: project.id }}
            className="project-card"
          >
            <span className="project-name">{project.name}</span>
            <span className="project-meta">
              <code>{project.key}</code>
              <span className="muted">
                {project.domains.length === 0
                  ? 'No allowed domains'
                  : project.domains.length === 1
                    ? project.domains[0]
                    : `${project.domains[0]} +${project.domains.length - 1} more`}
              </span>
              <span className="muted">Created {formatDateTime(project.createdAt)}</span>
            </span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

function NewProject({ org }: { org: Membership }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [domains, setDomains] = useState('');
  const [created, setCreated] = useState<Project | null>(null);

  const create = useMutation({
    mutationFn: () => api.createProject(org.id, { name: name.trim(), domains: parseDomains(domains) }),
    onSuccess: (project) => {
      setCreated(project);
      setName('');
      setDomains('');
      void queryClient.invalidateQueries({ queryKey: queryKeys.projects(org.id) });
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setCreated(null);
    create.mutate();
  }

  return (
    <section className="card section" aria-labelledby="new-project-title">
      <h2 id="new-project-title">New project</h2>
      {created !== null && (
        <div className="created" data-testid="project-created" role="status">
          <p>
            <strong>{created.name}</strong> is ready. Add this snippet to your site, then{' '}
            <Link
              to="/orgs/$orgId/projects/$projectId"
              params={{ orgId: org.id, projectId: created.id }}
            >
              open its inbox
            </Link>
            .
          </p>
          <SnippetBox snippet={created.snippet} projectKey={created.key} />
        </div>
      )}
      <form onSubmit={submit} className="form form-narrow">
        <TextField
          label="Name"
          name="name"
          type="text"
          autoComplete="off"
          required
          maxLength={200}
          value={name}
          onChange={setName}
          placeholder="Marketing site"
        />
        <TextAreaField
          label="Allowed domains"
          name="domains"
          rows={4}
          spellCheck={false}
          autoCapitalize="off"
          value={domains}
          onChange={setDomains}
          placeholder={'example.com\n*.example.org'}
          hint={
            <>
              One per line, e.g. <code>example.com</code>, <code>*.example.org</code> for its
              subdomains, or an exact origin such as <code>https://app.example.com:8443</code>. The
              widget only accepts feedback sent from these sites.
            </>
          }
        />
        <ErrorNotice error={create.error} />
        <BusyButton busy={create.isPending} busyLabel="Creating project…">
          Create project
        </BusyButton>
      </form>
    </section>
  );
}
