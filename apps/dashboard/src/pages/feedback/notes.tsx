import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { notesQuery, queryKeys } from '../../api/queries';
import type { Feedback, Note } from '../../api/types';
import { ActionButton } from '../../components/action-button';
import { BusyButton } from '../../components/busy-button';
import { ErrorNotice } from '../../components/error-notice';
import { LoadMore } from '../../components/load-more';
import { TextAreaField } from '../../components/text-field';
import { formatDateTime } from '../../lib/format';
import { useOrgAccess } from '../../lib/use-org-access';

/** The server's limit of a note's length (apps/server/src/feedback/schema.ts). */
const MAX_NOTE_LENGTH = 10_000;

/** The team's internal notes on a feedback: newest first, add one, delete your own (owners and admins: any). */
export function Notes({ orgId, feedback }: { orgId: string; feedback: Feedback }) {
  const { me, can } = useOrgAccess(orgId);
  const queryClient = useQueryClient();
  const notes = useInfiniteQuery(notesQuery(orgId, feedback.id));
  const [body, setBody] = useState('');

  // The note count shows on the feedback and in the inbox; exact: never refetch the audited reporter read under the same key.
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: queryKeys.notes(orgId, feedback.id) });
    void queryClient.invalidateQueries({ queryKey: queryKeys.feedback(orgId, feedback.id), exact: true });
    void queryClient.invalidateQueries({ queryKey: queryKeys.feedbackLists(orgId) });
  };
  const add = useMutation({
    mutationFn: () => api.addNote(orgId, feedback.id, body),
    onSuccess: async () => {
      setBody('');
      await refresh();
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (body.trim() !== '') add.mutate();
  }

  const items = notes.data?.pages.flatMap((page) => page.items) ?? [];
  const mayDelete = (note: Note) => can('feedback_delete') || (can('feedback_update') && note.author?.id === me.user.id);

  return (
    <section className="card section" aria-labelledby="notes-title">
      <h2 id="notes-title">
        Internal notes{feedback.noteCount > 0 && <span className="count count-neutral">{feedback.noteCount}</span>}
      </h2>
      <p className="hint">Only your team sees them; the reporter never does.</p>
      {can('feedback_update') && (
        <form className="note-form" onSubmit={submit}>
          <TextAreaField label="Add a note" name="note" rows={3} maxLength={MAX_NOTE_LENGTH} value={body} onChange={setBody} />
          <ErrorNotice error={add.error} />
          <div className="form-actions">
            <BusyButton busy={add.isPending} busyLabel="Adding…" disabled={body.trim() === ''} className="button-small">
              Add note
            </BusyButton>
          </div>
        </form>
      )}
      {notes.isPending ? (
        <p className="muted">Loading notes…</p>
      ) : notes.isError ? (
        <ErrorNotice error={notes.error} />
      ) : items.length === 0 ? (
        <p className="muted">No notes yet.</p>
      ) : (
        <>
          <ol className="notes" data-testid="notes">
            {items.map((note) => (
              <li key={note.id} className="note" data-testid="note">
                <p className="note-head">
                  <strong>{note.author?.name ?? 'A former member'}</strong>
                  {note.apiKeyId !== null && <span className="tag">API key</span>}
                  <time className="muted" dateTime={note.createdAt}>
                    {formatDateTime(note.createdAt)}
                  </time>
                </p>
                <p className="note-body">{note.body}</p>
                {mayDelete(note) && (
                  <ActionButton
                    label="Delete note"
                    busyLabel="Deleting…"
                    confirm={{ question: 'Delete this note? It cannot be undone.', confirmLabel: 'Delete note' }}
                    run={async () => {
                      await api.deleteNote(orgId, feedback.id, note.id);
                      await refresh();
                    }}
                  />
                )}
              </li>
            ))}
          </ol>
          <LoadMore query={notes} />
        </>
      )}
    </section>
  );
}
