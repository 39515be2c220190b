import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import type { DeliveryStatus, WebhookInput } from '../../api/client';
import { projectsQuery } from '../../api/queries';
import { WEBHOOK_EVENTS, type Webhook, type WebhookEvent } from '../../api/types';
import { CheckboxField, RadioGroup, SelectField } from '../../components/choice-field';
import { ErrorNotice } from '../../components/error-notice';
import { TextField } from '../../components/text-field';

// What the webhook pages share: the fields of a webhook (create and edit),
// the words for its events, and the look of a delivery's status.

export const EVENT_DESCRIPTIONS: Record<WebhookEvent, string> = {
  'feedback.created': 'New feedback arrives (widget or API)',
  'feedback.updated': 'Feedback’s status, assignee or labels change',
  'feedback.deleted': 'Feedback is deleted',
  'feedback.note_added': 'Someone writes an internal note',
  'project.created': 'A project is created',
  'project.updated': 'A project’s name, domains, widget or protection change',
  'project.deleted': 'A project is deleted',
  'member.added': 'Someone joins the organization',
  'member.updated': 'A member’s role or projects change',
  'member.removed': 'A member leaves or is removed',
};

/** What the webhook pages need (OrgFrame's `requires`). */
export const WEBHOOKS_PERMISSION = { permission: 'webhooks_read', otherwise: 'Only owners and admins see webhooks.' };

/** Events about the organization as a whole: only webhooks for every project receive them. */
const isOrganizationEvent = (event: WebhookEvent) => event.startsWith('member.');

export const DELIVERY_STATUSES: Record<DeliveryStatus, { label: string; badge: string }> = {
  pending: { label: 'Pending', badge: 'badge-in_progress' },
  succeeded: { label: 'Succeeded', badge: 'badge-success' },
  failed: { label: 'Failed', badge: 'badge-failure' },
};

export function DeliveryStatusBadge({ status }: { status: DeliveryStatus }) {
  const { label, badge } = DELIVERY_STATUSES[status];
  return <span className={`badge ${badge}`}>{label}</span>;
}

export function WebhookStatus({ enabled }: { enabled: boolean }) {
  return enabled ? <span className="badge badge-success">Enabled</span> : <span className="badge badge-archived">Disabled</span>;
}

export type WebhookDraft = Required<WebhookInput>;

export function draftOf(webhook: Webhook | null): WebhookDraft {
  return webhook === null
    ? { url: '', description: '', events: ['feedback.created'], projectId: null, enabled: true }
    : { url: webhook.url, description: webhook.description, events: webhook.events, projectId: webhook.projectId, enabled: webhook.enabled };
}

/** The draft as the API takes it: trimmed, events in the list's order, none a project webhook cannot receive. */
export function inputOf(draft: WebhookDraft): WebhookDraft {
  return {
    ...draft,
    url: draft.url.trim(),
    description: draft.description.trim(),
    events: WEBHOOK_EVENTS.filter((event) => draft.events.includes(event) && (draft.projectId === null || !isOrganizationEvent(event))),
  };
}

/** What keeps the draft from being saved; the server still judges the address (HTTPS, no internal addresses). */
export function draftProblems(draft: WebhookDraft): { url?: string; events?: string } {
  const input = inputOf(draft);
  const url = URL.canParse(input.url) ? new URL(input.url) : null;
  return {
    url:
      url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')
        ? 'Give the full address of your receiver, starting with https://.'
        : undefined,
    events: input.events.length === 0 ? 'Choose at least one event.' : undefined,
  };
}

type FieldsProps = {
  orgId: string;
  draft: WebhookDraft;
  onChange: (draft: WebhookDraft) => void;
  /** Problems to show (after a first attempt to save). */
  problems: { url?: string; events?: string };
};

/** URL, description, events, project and whether it is on. */
export function WebhookFields({ orgId, draft, onChange, problems }: FieldsProps) {
  const id = useId();
  const projects = useQuery(projectsQuery(orgId));
  const change = (part: Partial<WebhookDraft>) => onChange({ ...draft, ...part });
  const firstProject = projects.data?.items[0]?.id ?? null;

  return (
    <>
      <TextField
        label="Payload URL"
        name="webhook-url"
        type="url"
        inputMode="url"
        autoComplete="off"
        spellCheck={false}
        maxLength={2048}
        required
        value={draft.url}
        onChange={(url) => change({ url })}
        error={problems.url}
        hint="Where Parley POSTs each event: https:// (plain http:// only where your installation allows it). Redirects are not followed."
      />
      <TextField
        label="Description"
        name="webhook-description"
        autoComplete="off"
        maxLength={200}
        value={draft.description}
        onChange={(description) => change({ description })}
        hint="Optional: what receives it, e.g. “CRM sync”."
      />
      <fieldset className="check-list" aria-describedby={problems.events === undefined ? undefined : `${id}-events-error`}>
        <legend>Events</legend>
        {WEBHOOK_EVENTS.filter((event) => draft.projectId === null || !isOrganizationEvent(event)).map((event) => (
          <CheckboxField
            key={event}
            label={EVENT_DESCRIPTIONS[event]}
            hint={<code>{event}</code>}
            checked={draft.events.includes(event)}
            onChange={(isChecked) => change({ events: isChecked ? [...draft.events, event] : draft.events.filter((e) => e !== event) })}
          />
        ))}
        {draft.projectId !== null && <p className="hint">Member events concern the whole organization: only webhooks of every project receive them.</p>}
        {problems.events !== undefined && (
          <p className="field-error" id={`${id}-events-error`}>
            {problems.events}
          </p>
        )}
      </fieldset>
      <div className="webhook-scope">
        <RadioGroup
          legend="Projects"
          name={`${id}-scope`}
          inline
          value={draft.projectId === null ? 'all' : 'one'}
          choices={[
            { value: 'all', label: 'Every project' },
            { value: 'one', label: 'One project' },
          ]}
          onChange={(scope) => change({ projectId: scope === 'all' ? null : (draft.projectId ?? firstProject) })}
        />
        {draft.projectId !== null &&
          (projects.isError ? (
            <ErrorNotice error={projects.error} />
          ) : (
            <SelectField
              label="Project"
              value={draft.projectId}
              choices={(projects.data?.items ?? []).map((project) => ({ value: project.id, label: project.name }))}
              onChange={(projectId) => change({ projectId })}
            />
          ))}
      </div>
      <CheckboxField
        label="Enabled"
        checked={draft.enabled}
        onChange={(enabled) => change({ enabled })}
        hint="A disabled webhook receives nothing new; its pending retries wait until it is enabled again."
      />
    </>
  );
}
