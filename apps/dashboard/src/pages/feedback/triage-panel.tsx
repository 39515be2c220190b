import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useId, useState, type FormEvent } from 'react';
import { api, isApiError, type FeedbackChange } from '../../api/client';
import { labelsQuery, queryKeys } from '../../api/queries';
import { FEEDBACK_STATUSES, type Feedback, type FeedbackStatus, type Label } from '../../api/types';
import { ActionButton } from '../../components/action-button';
import { BusyButton } from '../../components/busy-button';
import { SelectField, type Choice } from '../../components/choice-field';
import { ErrorNotice } from '../../components/error-notice';
import { LabelChip } from '../../components/label-chip';
import { isHexColor, LABEL_PALETTE, LabelColorField } from '../../components/label-color-field';
import { TextField } from '../../components/text-field';
import { STATUS_LABELS } from '../../lib/format';
import { useOrgAccess } from '../../lib/use-org-access';
import { useProjectMembers } from '../../lib/use-project-members';

/** The server's limit of labels on one feedback (apps/server/src/feedback/schema.ts). */
const MAX_LABELS = 20;

const STATUS_CHOICES: Choice<FeedbackStatus>[] = FEEDBACK_STATUSES.map((value) => ({ value, label: STATUS_LABELS[value] }));

/** One triage change: labels are added or removed one at a time, against the set as it is when the change is sent. */
type TriageChange = { status?: FeedbackStatus; assigneeId?: string | null; addLabel?: string; removeLabel?: string };

/**
 * Changes of one feedback, sent one after another (a shared mutation scope),
 * each with If-Match set to the version the page holds once the previous
 * one is answered. So the page never trips over its own changes, while a
 * change someone else made meanwhile is refused (412): the page then reads
 * the feedback again and says so, and nothing is overwritten.
 */
function useTriage(orgId: string, feedback: Feedback) {
  const queryClient = useQueryClient();
  const key = queryKeys.feedback(orgId, feedback.id);
  return useMutation({
    scope: { id: `triage-${feedback.id}` },
    mutationFn: (change: TriageChange) => {
      const current = queryClient.getQueryData<Feedback>(key) ?? feedback;
      const body: FeedbackChange = { status: change.status, assigneeId: change.assigneeId };
      if (change.addLabel !== undefined) body.labelIds = [...current.labelIds.filter((id) => id !== change.addLabel), change.addLabel];
      if (change.removeLabel !== undefined) body.labelIds = current.labelIds.filter((id) => id !== change.removeLabel);
      return api.updateFeedback(orgId, feedback.id, body, current.version);
    },
    onSuccess: (updated) => {
      queryClient.setQueryData(key, updated);
      void queryClient.invalidateQueries({ queryKey: queryKeys.feedbackLists(orgId) });
    },
    onError: (error) => {
      // exact: the reporter's details below this key are an audited read, never refetched on their own.
      if (isApiError(error, 'precondition_failed')) void queryClient.invalidateQueries({ queryKey: key, exact: true });
    },
  });
}

/** Status, assignee and labels of one feedback, and deleting it. */
export function TriagePanel({ orgId, feedback }: { orgId: string; feedback: Feedback }) {
  const { me, can } = useOrgAccess(orgId);
  const members = useProjectMembers(orgId, feedback.projectId);
  const labels = useQuery(labelsQuery(orgId));
  const update = useTriage(orgId, feedback);
  const canEdit = can('feedback_update');

  // The choice shows at once; the stored value comes back if the change fails.
  const pending = update.isPending ? update.variables : undefined;
  const status = pending?.status ?? feedback.status;
  const assigneeId = pending?.assigneeId !== undefined ? pending.assigneeId : feedback.assigneeId;

  const assigneeChoices: Choice<string>[] = [
    { value: '', label: 'Unassigned' },
    ...members.canSee.map((member) => ({ value: member.userId, label: member.userId === me.user.id ? `${member.name} (you)` : member.name })),
  ];
  if (assigneeId !== null && !assigneeChoices.some((choice) => choice.value === assigneeId)) {
    // Assigned before their access to this project was narrowed (or they left).
    assigneeChoices.push({ value: assigneeId, label: members.byId.get(assigneeId)?.name ?? 'A former member' });
  }

  return (
    <section className="card section" aria-labelledby="triage-title">
      <h2 id="triage-title">Triage</h2>
      <div className="triage" aria-busy={update.isPending}>
        <SelectField label="Status" value={status} choices={STATUS_CHOICES} disabled={!canEdit} onChange={(value) => update.mutate({ status: value })} />
        <SelectField
          label="Assignee"
          value={assigneeId ?? ''}
          choices={assigneeChoices}
          disabled={!canEdit}
          onChange={(value) => update.mutate({ assigneeId: value === '' ? null : value })}
        />
        {labels.isError ? (
          <ErrorNotice error={labels.error} />
        ) : (
          <LabelsField
            orgId={orgId}
            assigned={feedback.labelIds}
            labels={labels.data?.items ?? []}
            canEdit={canEdit}
            canCreate={canEdit && can('labels_write')}
            onAdd={(id) => update.mutate({ addLabel: id })}
            onRemove={(id) => update.mutate({ removeLabel: id })}
          />
        )}
        <p className="save-status" role="status">
          {update.isPending ? 'Saving…' : update.isSuccess ? 'Saved' : ''}
        </p>
        {isApiError(update.error, 'precondition_failed') ? (
          <p className="notice notice-warning" role="alert" data-testid="triage-conflict">
            Someone else changed this feedback while you had it open, so your change was not saved. The page now shows their
            version: make your change again if it is still needed.
          </p>
        ) : (
          <ErrorNotice error={update.error} />
        )}
        {!canEdit && <p className="hint">Your role can read feedback but not change it.</p>}
      </div>
      {can('feedback_delete') && <DeleteFeedback orgId={orgId} feedback={feedback} />}
    </section>
  );
}

type LabelsFieldProps = {
  orgId: string;
  assigned: string[];
  labels: Label[];
  canEdit: boolean;
  canCreate: boolean;
  onAdd: (labelId: string) => void;
  onRemove: (labelId: string) => void;
};

/** The feedback's labels as chips (each with a remove button), a list to add one, and a form to make a new one. */
function LabelsField({ orgId, assigned, labels, canEdit, canCreate, onAdd, onRemove }: LabelsFieldProps) {
  const id = useId();
  const shown = labels.filter((label) => assigned.includes(label.id));
  const addable = labels.filter((label) => !assigned.includes(label.id));
  const isFull = assigned.length >= MAX_LABELS;
  return (
    <div className="labels-field" role="group" aria-labelledby={`${id}-title`}>
      <p className="field-label" id={`${id}-title`}>
        Labels
      </p>
      {shown.length === 0 ? (
        <p className="muted">No labels.</p>
      ) : (
        <ul className="label-list" data-testid="feedback-labels">
          {shown.map((label) => (
            <li key={label.id}>
              <LabelChip label={label}>
                {canEdit && (
                  <button type="button" className="chip-remove" aria-label={`Remove label ${label.name}`} onClick={() => onRemove(label.id)}>
                    ×
                  </button>
                )}
              </LabelChip>
            </li>
          ))}
        </ul>
      )}
      {canEdit && addable.length > 0 && (
        <SelectField
          label="Add a label"
          value=""
          disabled={isFull}
          hint={isFull ? `At most ${MAX_LABELS} labels on one feedback.` : undefined}
          choices={[{ value: '', label: 'Choose a label…' }, ...addable.map((label) => ({ value: label.id, label: label.name }))]}
          onChange={(labelId) => labelId !== '' && onAdd(labelId)}
        />
      )}
      {canEdit && labels.length === 0 && !canCreate && <p className="hint">This organization has no labels yet.</p>}
      {canCreate && !isFull && <NewLabel orgId={orgId} labelCount={labels.length} onCreated={onAdd} />}
    </div>
  );
}

/** Makes a label of the organization and puts it on this feedback. */
function NewLabel({ orgId, labelCount, onCreated }: { orgId: string; labelCount: number; onCreated: (labelId: string) => void }) {
  const queryClient = useQueryClient();
  const [isOpen, setOpen] = useState(false);
  const [name, setName] = useState('');
  // The palette's colours in turn, so labels made one after another differ.
  const [color, setColor] = useState<string>(LABEL_PALETTE[labelCount % LABEL_PALETTE.length]!.color);
  const isValid = name.trim() !== '' && isHexColor(color);
  const create = useMutation({
    mutationFn: () => api.createLabel(orgId, { name: name.trim(), color }),
    onSuccess: (label) => {
      queryClient.setQueryData(queryKeys.labels(orgId), (data: { items: Label[] } | undefined) =>
        data && { items: [...data.items, label].sort((a, b) => a.name.localeCompare(b.name)) },
      );
      void queryClient.invalidateQueries({ queryKey: queryKeys.labels(orgId) });
      setName('');
      setOpen(false);
      onCreated(label.id);
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (isValid) create.mutate();
  }

  if (!isOpen) {
    return (
      <button type="button" className="link-button" onClick={() => setOpen(true)}>
        New label…
      </button>
    );
  }
  return (
    <form className="new-label" aria-label="New label" onSubmit={submit}>
      <TextField label="New label’s name" name="label-name" maxLength={50} required autoFocus value={name} onChange={setName} />
      <LabelColorField value={color} onChange={setColor} error={isHexColor(color) ? undefined : 'A colour as #rrggbb, such as #1c7ed6.'} />
      <ErrorNotice error={create.error} />
      <div className="form-actions">
        <BusyButton className="button-small" busy={create.isPending} busyLabel="Creating…" disabled={!isValid}>
          Create and add
        </BusyButton>
        <button
          type="button"
          className="button button-secondary button-small"
          onClick={() => {
            create.reset();
            setOpen(false);
          }}
        >
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Deleting the feedback (owners and admins), after a question; then back to its project's inbox. */
function DeleteFeedback({ orgId, feedback }: { orgId: string; feedback: Feedback }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  return (
    <div className="triage-delete">
      <ActionButton
        label="Delete feedback"
        busyLabel="Deleting…"
        variant="danger"
        confirm={{
          question: 'Delete this feedback with its screenshot and notes? It cannot be undone.',
          confirmLabel: 'Delete feedback',
        }}
        run={async () => {
          await api.deleteFeedback(orgId, feedback.id, feedback.version).catch((error: unknown) => {
            // Changed by someone else meanwhile: show what it is now; the server's answer says to look again.
            if (isApiError(error, 'precondition_failed')) void queryClient.invalidateQueries({ queryKey: queryKeys.feedback(orgId, feedback.id), exact: true });
            throw error;
          });
          await navigate({ to: '/orgs/$orgId/projects/$projectId', params: { orgId, projectId: feedback.projectId } });
          queryClient.removeQueries({ queryKey: queryKeys.feedback(orgId, feedback.id) });
          await queryClient.invalidateQueries({ queryKey: queryKeys.feedbackLists(orgId) });
        }}
      />
    </div>
  );
}
