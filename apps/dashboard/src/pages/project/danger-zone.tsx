import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api, isApiError } from '../../api/client';
import { queryKeys } from '../../api/queries';
import type { Project } from '../../api/types';
import { BusyButton } from '../../components/busy-button';
import { ErrorNotice } from '../../components/error-notice';
import { TextField } from '../../components/text-field';
import { useOrgAccess } from '../../lib/use-org-access';

/**
 * Deleting the project, for owners and admins. Typing its name first makes
 * the wrong project hard to delete by accident; the server asks for a
 * recent factor (the API client opens the re-authentication dialog).
 */
export function DangerZone({ orgId, project }: { orgId: string; project: Project }) {
  const { can } = useOrgAccess(orgId);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [typed, setTyped] = useState('');
  const isConfirmed = typed === project.name;

  const remove = useMutation({
    mutationFn: () => api.deleteProject(orgId, project.id, project.version),
    onSuccess: async () => {
      await navigate({ to: '/', search: { org: orgId } });
      // Only once the project's page is gone, or it would ask for the project again.
      queryClient.removeQueries({ queryKey: queryKeys.project(orgId, project.id) });
      queryClient.removeQueries({ queryKey: queryKeys.feedbackLists(orgId) });
      await queryClient.invalidateQueries({ queryKey: queryKeys.projects(orgId), exact: true });
    },
    // Changed meanwhile (412): read it again, so the next try is based on what it is now; the notice says why.
    onError: (error) => {
      if (isApiError(error, 'precondition_failed')) void queryClient.invalidateQueries({ queryKey: queryKeys.project(orgId, project.id), exact: true });
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (isConfirmed) remove.mutate();
  }

  return (
    <section className="card section danger-zone" aria-labelledby="danger-title">
      <h2 id="danger-title">Delete this project</h2>
      <p>
        Deletes <strong>{project.name}</strong> with all its feedback, screenshots, notes, webhooks and notification choices.
        It cannot be undone: export what you want to keep first. Members and API keys limited to this project lose access to
        it.
      </p>
      {can('project_write') ? (
        <form className="form form-narrow" onSubmit={submit}>
          <TextField
            label={`Type the project’s name, “${project.name}”, to confirm`}
            name="confirm-project-name"
            autoComplete="off"
            spellCheck={false}
            value={typed}
            onChange={setTyped}
            hint="You may be asked to confirm it’s you before the project is deleted."
          />
          <ErrorNotice error={remove.error} />
          <div className="form-actions">
            <BusyButton variant="danger" busy={remove.isPending} busyLabel="Deleting…" disabled={!isConfirmed}>
              Delete this project
            </BusyButton>
          </div>
        </form>
      ) : (
        <p className="notice notice-warning">Only owners and admins can delete a project.</p>
      )}
    </section>
  );
}
