import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api, isApiError, type LabelInput } from '../../api/client';
import { labelsQuery, queryKeys } from '../../api/queries';
import type { Label } from '../../api/types';
import { ActionButton } from '../../components/action-button';
import { BusyButton } from '../../components/busy-button';
import { ErrorNotice } from '../../components/error-notice';
import { LabelChip } from '../../components/label-chip';
import { isHexColor, LABEL_PALETTE, LabelColorField } from '../../components/label-color-field';
import { OrgFrame } from '../../components/section-nav';
import { TextField } from '../../components/text-field';
import { useOrgAccess } from '../../lib/use-org-access';

const route = getRouteApi('/authenticated/orgs/$orgId/labels');

const MAX_NAME = 50;

/** A label's name and colour as typed; their problems show once saving was tried. */
function useLabelDraft(initial: { name: string; color: string }) {
  const [name, setName] = useState(initial.name);
  const [color, setColor] = useState(initial.color);
  const [isTried, setTried] = useState(false);
  const problems = {
    name: name.trim() === '' ? 'Give the label a name.' : undefined,
    color: isHexColor(color) ? undefined : 'A colour code is # and six hex digits, e.g. #1c7ed6.',
  };
  const isValid = problems.name === undefined && problems.color === undefined;
  return {
    fields: { name, color, onName: setName, onColor: setColor, problems: isTried ? problems : { name: undefined, color: undefined } },
    /** What to send, or null while something is wrong; from now on the problems show. */
    tryInput: () => {
      setTried(true);
      return isValid ? { name: name.trim(), color: color.toLowerCase() } : null;
    },
    reset: (to: { name: string; color: string }) => {
      setName(to.name);
      setColor(to.color);
      setTried(false);
    },
  };
}

type LabelFieldsProps = ReturnType<typeof useLabelDraft>['fields'] & { hint?: string };

function LabelFields({ name, color, onName, onColor, problems, hint }: LabelFieldsProps) {
  return (
    <>
      <TextField label="Name" name="label-name" autoComplete="off" maxLength={MAX_NAME} value={name} onChange={onName} error={problems.name} hint={hint} />
      <LabelColorField value={color} onChange={onColor} error={problems.color} />
    </>
  );
}

export function LabelsPage() {
  const { orgId } = route.useParams();
  const { can } = useOrgAccess(orgId);
  const canEdit = can('labels_write');
  return (
    <OrgFrame orgId={orgId} section="labels" title="Labels" intro="Sort feedback across every project of this organization.">
      <LabelList orgId={orgId} canEdit={canEdit} />
      {canEdit && <CreateLabel orgId={orgId} />}
    </OrgFrame>
  );
}

function LabelList({ orgId, canEdit }: { orgId: string; canEdit: boolean }) {
  const labels = useQuery(labelsQuery(orgId));
  return (
    <section className="card section" aria-labelledby="labels-title">
      <h2 id="labels-title">Labels</h2>
      {!canEdit && <p className="hint">Members, admins and owners create and change labels; you can put them on feedback you may triage.</p>}
      {labels.isPending ? (
        <p className="muted">Loading labels…</p>
      ) : labels.isError ? (
        <ErrorNotice error={labels.error} />
      ) : labels.data.items.length === 0 ? (
        <p className="muted" data-testid="labels-empty">
          No labels yet.
        </p>
      ) : (
        <ul className="item-list" data-testid="labels">
          {labels.data.items.map((label) => (
            <LabelRow key={label.id} orgId={orgId} label={label} canEdit={canEdit} />
          ))}
        </ul>
      )}
    </section>
  );
}

function LabelRow({ orgId, label, canEdit }: { orgId: string; label: Label; canEdit: boolean }) {
  const queryClient = useQueryClient();
  const [isEditing, setEditing] = useState(false);
  const draft = useLabelDraft(label);
  const refresh = () => queryClient.invalidateQueries({ queryKey: queryKeys.labels(orgId) });

  const save = useMutation({
    mutationFn: (input: LabelInput) => api.updateLabel(orgId, label.id, input, label.version),
    onSuccess: async () => {
      setEditing(false);
      await refresh();
    },
    // Someone else changed it meanwhile: close the editor on the label as it is now (the notice says why).
    onError: async (error) => {
      if (isApiError(error, 'precondition_failed')) {
        setEditing(false);
        await refresh();
      }
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const input = draft.tryInput();
    if (input !== null) save.mutate(input);
  }
  function startEditing() {
    draft.reset(label);
    save.reset();
    setEditing(true);
  }

  return (
    <li className="item-row label-row">
      {isEditing ? (
        <form className="form label-editor" onSubmit={submit} noValidate aria-label={`Change label ${label.name}`}>
          <LabelFields {...draft.fields} />
          <ErrorNotice error={save.error} />
          <div className="form-actions">
            <BusyButton className="button-small" busy={save.isPending} busyLabel="Saving…">
              Save
            </BusyButton>
            <button type="button" className="button button-secondary button-small" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <>
          <div>
            <LabelChip label={label} />
            <span className="cell-note mono">{label.color}</span>
            {isApiError(save.error, 'precondition_failed') && (
              <p className="notice notice-warning" role="alert">
                Someone changed this label while you were editing it. This is how it is now; edit it again to make your change.
              </p>
            )}
          </div>
          {canEdit && (
            <div className="row-actions">
              <button type="button" className="button button-secondary button-small" onClick={startEditing} aria-label={`Edit label ${label.name}`}>
                Edit
              </button>
              <ActionButton
                label="Delete"
                busyLabel="Deleting…"
                run={async () => {
                  await api.deleteLabel(orgId, label.id);
                  await refresh();
                }}
                confirm={{
                  question: `Delete the label “${label.name}”? It is taken off all feedback that carries it.`,
                  confirmLabel: 'Delete label',
                }}
              />
            </div>
          )}
        </>
      )}
    </li>
  );
}

function CreateLabel({ orgId }: { orgId: string }) {
  const queryClient = useQueryClient();
  const draft = useLabelDraft({ name: '', color: LABEL_PALETTE[5].color });
  const create = useMutation({
    mutationFn: (input: LabelInput) => api.createLabel(orgId, input),
    onSuccess: (created) => {
      // The next label likely wants the same colour, not the same name.
      draft.reset({ name: '', color: created.color });
      void queryClient.invalidateQueries({ queryKey: queryKeys.labels(orgId) });
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const input = draft.tryInput();
    if (input !== null) create.mutate(input);
  }

  return (
    <section className="card section" aria-labelledby="create-label-title">
      <h2 id="create-label-title">Create a label</h2>
      <form className="form form-narrow" onSubmit={submit} noValidate>
        <LabelFields {...draft.fields} hint={`Up to ${MAX_NAME} characters; “Bug” and “bug” are the same label.`} />
        <ErrorNotice error={create.error} />
        <div className="form-actions">
          <BusyButton busy={create.isPending} busyLabel="Creating…">
            Create label
          </BusyButton>
          <span className="save-status" role="status">
            {create.isSuccess ? `Created “${create.data.name}”` : ''}
          </span>
        </div>
      </form>
    </section>
  );
}
