import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { queryKeys } from '../../api/queries';
import type { Project, WidgetSettings } from '../../api/types';
import { CheckboxField, RadioGroup, SelectField, type Choice } from '../../components/choice-field';
import { SaveBar } from '../../components/save-bar';
import { SettingsCard } from '../../components/settings-card';
import { TextAreaField, TextField } from '../../components/text-field';
import {
  BUILT_IN_TYPES,
  contrastRatio,
  fromDraft,
  isDraftChanged,
  MAX_CUSTOM_FIELDS,
  MAX_TYPES,
  rowKey,
  toDraft,
  withDefaults,
  type CustomFieldDraft,
  type SettingsDraft,
  type TypeDraft,
} from '../../lib/widget-settings';

const POSITIONS: Choice<WidgetSettings['launcher']['position']>[] = [
  { value: 'bottom-right', label: 'Bottom right' },
  { value: 'bottom-left', label: 'Bottom left' },
  { value: 'top-right', label: 'Top right' },
  { value: 'top-left', label: 'Top left' },
];

const THEME_CHOICES: Choice<WidgetSettings['theme']>[] = [
  { value: 'auto', label: 'Follow the visitor’s system' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];

const LOCALE_CHOICES: Choice<WidgetSettings['locale']>[] = [
  { value: 'auto', label: 'Automatic (page language, then browser)' },
  { value: 'en', label: 'English' },
  { value: 'de', label: 'Deutsch' },
  { value: 'fr', label: 'Français' },
  { value: 'es', label: 'Español' },
];

const RATING_CHOICES: Choice<WidgetSettings['rating']>[] = [
  { value: 'stars', label: 'Stars', hint: '1 to 5 stars.' },
  { value: 'thumbs', label: 'Thumbs up or down', hint: 'Stored as 1 (up) or 0 (down).' },
  { value: 'emoji', label: 'Emoji faces', hint: 'Five faces from unhappy to happy, stored as 1 to 5.' },
  { value: 'nps', label: 'Net Promoter Score', hint: '“How likely are you to recommend us?” from 0 to 10.' },
  { value: 'none', label: 'No rating', hint: 'Only the message and the questions below.' },
];

const EMAIL_CHOICES: Choice<WidgetSettings['email']>[] = [
  { value: 'hidden', label: 'Do not ask' },
  { value: 'optional', label: 'Optional' },
  { value: 'required', label: 'Required' },
];

const SCREENSHOT_CHOICES: Choice<WidgetSettings['screenshot']['mode']>[] = [
  {
    value: 'dom',
    label: 'Draw the page',
    hint: 'Rendered from the page in the browser, without a prompt. Images and frames from other sites may be missing.',
  },
  {
    value: 'native',
    label: 'Screen capture',
    hint: 'The browser asks the visitor to share this tab (exact pixels; HTTPS pages only).',
  },
];

const FIELD_TYPE_CHOICES: Choice<CustomFieldDraft['type']>[] = [
  { value: 'text', label: 'Text' },
  { value: 'select', label: 'Choice list' },
];

type Section = 'launcher' | 'consent' | 'screenshot' | 'context' | 'display' | 'identity';

type Props = {
  orgId: string;
  project: Project;
  /** Told whenever the form starts or stops holding unsaved changes. */
  onChangedState: (isChanged: boolean) => void;
};

/** Every widget setting of one project, saved together with one PATCH. */
export function WidgetSettingsForm({ orgId, project, onChangedState }: Props) {
  const queryClient = useQueryClient();
  const saved = withDefaults(project.settings);
  const [draft, setDraft] = useState(() => toDraft(saved));
  const [isSubmitted, setSubmitted] = useState(false);

  const save = useMutation({
    mutationFn: (settings: WidgetSettings) => api.updateProject(orgId, project.id, { settings }),
    onSuccess: (updated) => {
      queryClient.setQueryData(queryKeys.project(orgId, project.id), updated);
      void queryClient.invalidateQueries({ queryKey: queryKeys.projects(orgId), exact: true });
      setDraft(toDraft(withDefaults(updated.settings)));
      setSubmitted(false);
    },
  });

  const isChanged = isDraftChanged(draft, saved);
  useEffect(() => onChangedState(isChanged), [isChanged, onChangedState]);

  const result = fromDraft(draft);
  const problems = isSubmitted && !result.ok ? result.problems : [];

  function change(patch: Partial<SettingsDraft>) {
    setDraft((d) => ({ ...d, ...patch }));
    save.reset();
  }

  function changeSection<K extends Section>(key: K, patch: Partial<SettingsDraft[K]>) {
    setDraft((d) => ({ ...d, [key]: { ...d[key], ...patch } }));
    save.reset();
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSubmitted(true);
    if (result.ok) save.mutate(result.settings);
  }

  const { launcher, context, display } = draft;

  return (
    <form className="settings-form" onSubmit={submit} noValidate aria-labelledby="widget-settings-title">
      <h2 id="widget-settings-title" className="visually-hidden">
        Widget settings
      </h2>

      <SettingsCard title="Launcher and look">
        <div className="field-row">
          <SelectField
            label="Position"
            value={launcher.position}
            choices={POSITIONS}
            onChange={(position) => changeSection('launcher', { position })}
          />
          <TextField
            label="Button label"
            name="launcher-label"
            placeholder="Feedback"
            maxLength={40}
            value={launcher.label}
            onChange={(label) => changeSection('launcher', { label })}
            hint="Empty: “Feedback” in the visitor’s language."
          />
        </div>
        <div className="field-row">
          <ColorField
            label="Button colour"
            value={launcher.color}
            onChange={(color) => changeSection('launcher', { color })}
          />
          <ColorField
            label="Button text colour"
            value={launcher.textColor}
            onChange={(textColor) => changeSection('launcher', { textColor })}
          />
        </div>
        <ContrastNote color={launcher.color} textColor={launcher.textColor} />
        <RadioGroup
          legend="Theme"
          name="theme"
          inline
          value={draft.theme}
          choices={THEME_CHOICES}
          onChange={(theme) => change({ theme })}
        />
        <SelectField
          label="Language"
          value={draft.locale}
          choices={LOCALE_CHOICES}
          onChange={(locale) => change({ locale })}
        />
      </SettingsCard>

      <SettingsCard title="Questions">
        <TypesEditor types={draft.types} onChange={(types) => change({ types })} />
        <RadioGroup
          legend="Rating"
          name="rating"
          value={draft.rating}
          choices={RATING_CHOICES}
          onChange={(rating) => change({ rating })}
        />
        <RadioGroup
          legend="Ask for an e-mail address"
          name="email"
          inline
          value={draft.email}
          choices={EMAIL_CHOICES}
          onChange={(email) => change({ email })}
        />
      </SettingsCard>

      <SettingsCard title="Custom fields">
        <CustomFieldsEditor fields={draft.customFields} onChange={(customFields) => change({ customFields })} />
      </SettingsCard>

      <SettingsCard title="Consent">
        <CheckboxField
          label="Ask for consent before sending"
          hint="The visitor must tick a box agreeing to your privacy policy; feedback without it is refused."
          checked={draft.consent.required}
          onChange={(required) => changeSection('consent', { required })}
        />
        <TextField
          label="Privacy policy URL"
          name="privacy-url"
          type="url"
          inputMode="url"
          placeholder="https://example.com/privacy"
          spellCheck={false}
          autoCapitalize="off"
          value={draft.consent.privacyUrl}
          onChange={(privacyUrl) => changeSection('consent', { privacyUrl })}
          hint="Linked from the consent box and the widget’s footer. Empty: no link."
        />
      </SettingsCard>

      <SettingsCard title="Screenshot">
        <CheckboxField
          label="Let visitors attach a screenshot"
          hint="A screenshot can show personal data that is on the visitor’s screen."
          checked={draft.screenshot.enabled}
          onChange={(enabled) => changeSection('screenshot', { enabled })}
        />
        <RadioGroup
          legend="How the screenshot is taken"
          name="screenshot-mode"
          disabled={!draft.screenshot.enabled}
          value={draft.screenshot.mode}
          choices={SCREENSHOT_CHOICES}
          onChange={(mode) => changeSection('screenshot', { mode })}
        />
      </SettingsCard>

      <SettingsCard title="Context sent with each feedback" intro="Send only what you need: each item is stored with the feedback.">
        <CheckboxField
          label="Page URL"
          hint="The address of the page the feedback was sent from."
          checked={context.pageUrl}
          onChange={(pageUrl) => changeSection('context', { pageUrl })}
        />
        <div className="check-nested">
          <CheckboxField
            label="Keep the query string and fragment"
            hint="Off by default: they often hold e-mail addresses, tokens or search terms."
            disabled={!context.pageUrl}
            checked={context.pageUrl && context.keepQuery}
            onChange={(keepQuery) => changeSection('context', { keepQuery })}
          />
        </div>
        <CheckboxField
          label="Browser and operating system"
          hint="Names and major version only, such as “Chrome 156” and “Linux”."
          checked={context.browser}
          onChange={(browser) => changeSection('context', { browser })}
        />
        <CheckboxField
          label="Viewport size"
          hint="The window size in CSS pixels; helps to reproduce layout problems."
          checked={context.viewport}
          onChange={(viewport) => changeSection('context', { viewport })}
        />
        <CheckboxField
          label="Language setting"
          hint="The browser’s language, such as en-GB."
          checked={context.locale}
          onChange={(locale) => changeSection('context', { locale })}
        />
        <CheckboxField
          label="Console errors"
          hint="The page’s last 20 JavaScript errors with stack traces; they can contain URLs, ids and data from your page."
          checked={context.consoleErrors}
          onChange={(consoleErrors) => changeSection('context', { consoleErrors })}
        />
      </SettingsCard>

      <SettingsCard title="When to show the widget" intro="Leave a field empty to turn its rule off.">
        <TextAreaField
          label="Show on pages"
          name="url-patterns"
          rows={3}
          spellCheck={false}
          autoCapitalize="off"
          placeholder={'/app/*\n/pricing'}
          value={display.urlPatterns}
          onChange={(urlPatterns) => changeSection('display', { urlPatterns })}
          hint={
            <>
              Paths, one per line; <code>*</code> matches anything. Empty: every page.
            </>
          }
        />
        <div className="field-row field-row-3">
          <TextField
            label="Open by itself after (seconds)"
            name="auto-open-seconds"
            inputMode="numeric"
            placeholder="Off"
            value={display.autoOpenSeconds}
            onChange={(autoOpenSeconds) => changeSection('display', { autoOpenSeconds })}
            hint="1 to 3600."
          />
          <TextField
            label="Snooze after dismiss or send (days)"
            name="snooze-days"
            inputMode="numeric"
            placeholder="Off"
            value={display.snoozeDays}
            onChange={(snoozeDays) => changeSection('display', { snoozeDays })}
            hint="1 to 365."
          />
          <TextField
            label="Show at most (times per visitor)"
            name="max-shows"
            inputMode="numeric"
            placeholder="No limit"
            value={display.maxShows}
            onChange={(maxShows) => changeSection('display', { maxShows })}
            hint="1 to 1000."
          />
        </div>
      </SettingsCard>

      <SettingsCard title="Identified users">
        <CheckboxField
          label="Require a signed identity"
          hint={
            <>
              Only signed-in users of your site can send feedback: each submission must carry a user id signed with
              the project’s identity secret (see{' '}
              <Link to="/orgs/$orgId/projects/$projectId" params={{ orgId, projectId: project.id }} search={{ tab: 'install' }}>
                Install
              </Link>
              ).
            </>
          }
          checked={draft.identity.required}
          onChange={(required) => changeSection('identity', { required })}
        />
        {draft.identity.required && !project.hasIdentitySecret && (
          <p className="notice notice-warning">
            This project has no identity secret yet: until you generate one, every submission will be refused.
          </p>
        )}
      </SettingsCard>

      <SettingsCard title="Widget texts">
        <TextAreaField
          label="Text overrides"
          name="texts"
          rows={3}
          spellCheck={false}
          placeholder="title = Tell us what you think"
          value={draft.texts}
          onChange={(texts) => change({ texts })}
          hint={
            <>
              Optional, one <code>key = text</code> per line, replacing the widget’s text in every language. The
              keys are listed in <code>docs/widget.md</code>.
            </>
          }
        />
      </SettingsCard>

      <SaveBar save={save} isChanged={isChanged} label="Save widget settings" statusTestId="settings-save-status">
        {problems.length > 0 && (
          <div className="notice notice-error" role="alert">
            <p>Please fix these before saving:</p>
            <ul>
              {problems.map((problem) => (
                <li key={problem}>{problem}</li>
              ))}
            </ul>
          </div>
        )}
      </SaveBar>
    </form>
  );
}

const HEX = /^#[0-9a-fA-F]{6}$/;

/** A colour picker and the same colour as hex text; the text may be mid-edit, the picker keeps the last valid colour. */
function ColorField({ label, value, onChange }: { label: string; value: string; onChange: (value: string) => void }) {
  const id = useId();
  const [lastValid, setLastValid] = useState(HEX.test(value) ? value : '#000000');
  if (HEX.test(value) && value.toLowerCase() !== lastValid.toLowerCase()) setLastValid(value);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="color-field">
        <input type="color" id={id} value={lastValid.toLowerCase()} onChange={(e) => onChange(e.target.value)} />
        <input
          type="text"
          className="color-hex"
          aria-label={`${label}, hex code`}
          aria-invalid={!HEX.test(value)}
          spellCheck={false}
          autoCapitalize="off"
          maxLength={7}
          value={value}
          onChange={(e) => onChange(e.target.value.trim())}
        />
      </div>
    </div>
  );
}

function ContrastNote({ color, textColor }: { color: string; textColor: string }) {
  const ratio = contrastRatio(color, textColor);
  if (ratio === null) return null;
  const shown = `${ratio.toFixed(1)}:1`;
  return ratio >= 4.5 ? (
    <p className="hint">Contrast {shown}: easy to read.</p>
  ) : (
    <p className="notice notice-warning">
      Contrast {shown}: the button label may be hard to read. Aim for 4.5:1 or more.
    </p>
  );
}

/** Moves the item at `index` one place up (-1) or down (+1). */
function moved<T>(items: T[], index: number, step: -1 | 1): T[] {
  const to = index + step;
  if (to < 0 || to >= items.length) return items;
  const copy = [...items];
  [copy[index], copy[to]] = [copy[to]!, copy[index]!];
  return copy;
}

function RowButtons({ what, index, count, onMove, onRemove }: {
  what: string;
  index: number;
  count: number;
  onMove: (step: -1 | 1) => void;
  onRemove: () => void;
}) {
  return (
    <div className="row-buttons">
      <button type="button" className="icon-button" aria-label={`Move ${what} up`} disabled={index === 0} onClick={() => onMove(-1)}>
        ↑
      </button>
      <button
        type="button"
        className="icon-button"
        aria-label={`Move ${what} down`}
        disabled={index === count - 1}
        onClick={() => onMove(1)}
      >
        ↓
      </button>
      <button type="button" className="button button-secondary button-small" aria-label={`Remove ${what}`} onClick={onRemove}>
        Remove
      </button>
    </div>
  );
}

function TypesEditor({ types, onChange }: { types: TypeDraft[]; onChange: (types: TypeDraft[]) => void }) {
  const isFull = types.length >= MAX_TYPES;
  const update = (index: number, patch: Partial<TypeDraft>) =>
    onChange(types.map((t, i) => (i === index ? { ...t, ...patch } : t)));
  const add = (id: string) => onChange([...types, { key: rowKey(), id, label: '' }]);

  return (
    <fieldset className="list-editor">
      <legend>Feedback types</legend>
      <p className="hint">
        Offered as a choice above the message. None: no type question. Up to {MAX_TYPES}. Leave the label of bug, idea,
        praise or other empty to use the widget’s translation.
      </p>
      {types.length > 0 && (
        <div className="type-row type-head" aria-hidden="true">
          <span>Id</span>
          <span>Label</span>
        </div>
      )}
      {types.length > 0 && (
        <ol className="type-rows">
          {types.map((type, index) => {
            const what = `type ${index + 1}`;
            const builtIn = BUILT_IN_TYPES.find((b) => b.id === type.id.trim());
            return (
              <li key={type.key} className="type-row">
                <TextField
                  label={`Type ${index + 1} id`}
                  hideLabel
                  name={`type-${index}-id`}
                  placeholder="id"
                  spellCheck={false}
                  autoCapitalize="off"
                  maxLength={32}
                  value={type.id}
                  onChange={(id) => update(index, { id: id.toLowerCase() })}
                />
                <TextField
                  label={`Type ${index + 1} label`}
                  hideLabel
                  name={`type-${index}-label`}
                  placeholder={builtIn === undefined ? 'Label' : `${builtIn.label} (translated)`}
                  maxLength={40}
                  value={type.label}
                  onChange={(label) => update(index, { label })}
                />
                <RowButtons
                  what={what}
                  index={index}
                  count={types.length}
                  onMove={(step) => onChange(moved(types, index, step))}
                  onRemove={() => onChange(types.filter((_, i) => i !== index))}
                />
              </li>
            );
          })}
        </ol>
      )}
      <div className="quick-add" role="group" aria-label="Add a feedback type">
        {BUILT_IN_TYPES.map((builtIn) => (
          <button
            key={builtIn.id}
            type="button"
            className="button button-secondary button-small"
            disabled={isFull || types.some((t) => t.id.trim() === builtIn.id)}
            onClick={() => add(builtIn.id)}
          >
            + {builtIn.label}
          </button>
        ))}
        <button type="button" className="button button-secondary button-small" disabled={isFull} onClick={() => add('')}>
          + Custom type
        </button>
      </div>
    </fieldset>
  );
}

function CustomFieldsEditor({ fields, onChange }: { fields: CustomFieldDraft[]; onChange: (fields: CustomFieldDraft[]) => void }) {
  const update = (index: number, patch: Partial<CustomFieldDraft>) =>
    onChange(fields.map((f, i) => (i === index ? { ...f, ...patch } : f)));

  return (
    <>
      <p className="hint">
        Extra questions under the message, up to {MAX_CUSTOM_FIELDS}. Answers appear in each feedback’s “Custom fields”.
      </p>
      {fields.map((field, index) => (
        <fieldset key={field.key} className="custom-field">
          <legend>Field {index + 1}</legend>
          <div className="field-row">
            <TextField
              label="Id"
              name={`field-${index}-id`}
              placeholder="plan"
              spellCheck={false}
              autoCapitalize="off"
              maxLength={32}
              value={field.id}
              onChange={(id) => update(index, { id: id.toLowerCase() })}
              hint="Lower-case letters, digits, - and _."
            />
            <TextField
              label="Label"
              name={`field-${index}-label`}
              placeholder="Your plan"
              maxLength={80}
              value={field.label}
              onChange={(label) => update(index, { label })}
            />
            <SelectField
              label="Answer"
              value={field.type}
              choices={FIELD_TYPE_CHOICES}
              onChange={(type) => update(index, { type })}
            />
          </div>
          {field.type === 'select' && (
            <TextAreaField
              label="Options"
              name={`field-${index}-options`}
              rows={3}
              value={field.options}
              onChange={(options) => update(index, { options })}
              hint="One per line, up to 20."
            />
          )}
          <div className="custom-field-foot">
            <CheckboxField
              label="Required"
              checked={field.required}
              onChange={(required) => update(index, { required })}
            />
            <RowButtons
              what={`field ${index + 1}`}
              index={index}
              count={fields.length}
              onMove={(step) => onChange(moved(fields, index, step))}
              onRemove={() => onChange(fields.filter((_, i) => i !== index))}
            />
          </div>
        </fieldset>
      ))}
      <div>
        <button
          type="button"
          className="button button-secondary button-small"
          disabled={fields.length >= MAX_CUSTOM_FIELDS}
          onClick={() =>
            onChange([...fields, { key: rowKey(), id: '', label: '', type: 'text', options: '', required: false }])
          }
        >
          + Add field
        </button>
      </div>
    </>
  );
}
