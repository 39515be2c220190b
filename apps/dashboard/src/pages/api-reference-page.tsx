import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { Fragment, useDeferredValue, useEffect, useMemo, useState, type ReactNode } from 'react';
import { openApiQuery } from '../api/queries';
import { TopBarFrame } from '../components/app-layout';
import { ErrorNotice } from '../components/error-notice';
import {
  alternativesOf,
  constraintsOf,
  credentialsOf,
  groupByTag,
  resolve,
  typeLabel,
  type Entry,
  type OpenApiDocument,
  type Operation,
  type Parameter,
  type Response,
  type Schema,
  type TagGroup,
} from '../lib/openapi';
import { usePageTitle } from '../lib/use-page-title';

/**
 * The REST API's reference, drawn from the running server's OpenAPI
 * document (GET /api/v1/openapi.json): public, like the document itself.
 * Everything in it is shown as React text; nothing is rendered as HTML.
 */
export function ApiReferencePage() {
  usePageTitle('API reference');
  const document = useQuery(openApiQuery);
  const [filter, setFilter] = useState('');
  const deferred = useDeferredValue(filter.trim().toLowerCase());
  const groups = useMemo(() => (document.data ? matching(groupByTag(document.data), deferred) : []), [document.data, deferred]);

  // The operations arrive after the page: scroll to the one the address names.
  useEffect(() => {
    if (document.data && window.location.hash.length > 1) {
      window.document.getElementById(decodeURIComponent(window.location.hash.slice(1)))?.scrollIntoView();
    }
  }, [document.data]);

  return (
    <>
      <TopBarFrame>
        <nav className="topbar-nav" aria-label="Site">
          <Link to="/">Dashboard</Link>
        </nav>
      </TopBarFrame>
      <main className="container" id="main">
        {document.isPending ? (
          <p className="muted">Loading the API reference…</p>
        ) : document.isError ? (
          <ErrorNotice error={document.error} />
        ) : (
          <div className="reference-layout">
            <aside className="reference-nav" aria-label="Operations">
              <div className="field">
                <label htmlFor="reference-filter">Find an operation</label>
                <input id="reference-filter" type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="feedback, POST, label…" />
              </div>
              <nav>
                <ul className="reference-toc">
                  {groups.map((group) => (
                    <li key={group.name}>
                      <a href={`#${tagAnchor(group.name)}`}>{group.name}</a>
                      <ul>
                        {group.entries.map((entry) => (
                          <li key={entry.id}>
                            <a href={`#${entry.id}`}>{entry.operation.summary ?? entry.path}</a>
                          </li>
                        ))}
                      </ul>
                    </li>
                  ))}
                </ul>
              </nav>
            </aside>
            <div className="reference-main">
              <Overview document={document.data} />
              {groups.length === 0 && <p className="muted">No operation matches “{filter}”.</p>}
              {groups.map((group) => (
                <TagSection key={group.name} document={document.data} group={group} />
              ))}
              <ErrorCodes document={document.data} />
            </div>
          </div>
        )}
      </main>
    </>
  );
}

const tagAnchor = (name: string) => `tag-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;

/** The groups with only the operations whose method, path, summary or tag contain `text`. */
function matching(groups: TagGroup[], text: string): TagGroup[] {
  if (text === '') return groups;
  return groups
    .map((group) => ({
      ...group,
      entries: group.entries.filter((entry) =>
        [entry.method, entry.path, entry.operation.summary ?? '', group.name].some((field) => field.toLowerCase().includes(text)),
      ),
    }))
    .filter((group) => group.entries.length > 0);
}

/** Paragraphs of the document's text, with `code` spans; never parsed as HTML. */
function Prose({ text }: { text: string | undefined }) {
  if (!text) return null;
  return (
    <>
      {text.split(/\n{2,}/).map((paragraph, i) => (
        <p key={i}>
          {paragraph.split('`').map((part, j) => (j % 2 === 1 ? <code key={j}>{part}</code> : part))}
        </p>
      ))}
    </>
  );
}

function Overview({ document }: { document: OpenApiDocument }) {
  const baseUrl = document.servers?.[0]?.url ?? window.location.origin;
  return (
    <section className="card section" aria-labelledby="reference-title">
      <h1 id="reference-title">{document.info.title}</h1>
      <p className="muted">
        Version {document.info.version} · OpenAPI {document.openapi} ·{' '}
        <a href="/api/v1/openapi.json" data-testid="openapi-link">
          openapi.json
        </a>
      </p>
      <Prose text={document.info.description} />
      <dl className="facts facts-compact">
        <div className="fact">
          <dt>Base URL</dt>
          <dd className="mono">{baseUrl}</dd>
        </div>
        <div className="fact">
          <dt>API keys</dt>
          <dd>
            <code>Authorization: Bearer prl_…</code>, created by an owner or admin in the dashboard; each key holds scopes, and
            each operation below names the scope it needs.
          </dd>
        </div>
      </dl>
    </section>
  );
}

function TagSection({ document, group }: { document: OpenApiDocument; group: TagGroup }) {
  return (
    <section className="reference-tag" aria-labelledby={tagAnchor(group.name)} data-testid="reference-tag">
      <h2 id={tagAnchor(group.name)}>{group.name}</h2>
      {group.description && <p className="muted">{group.description}</p>}
      {group.entries.map((entry) => (
        <OperationCard key={entry.id} document={document} entry={entry} />
      ))}
    </section>
  );
}

function MethodBadge({ method }: { method: string }) {
  return <span className={`method method-${method}`}>{method.toUpperCase()}</span>;
}

function OperationCard({ document, entry }: { document: OpenApiDocument; entry: Entry }) {
  const { operation } = entry;
  const parameters = (operation.parameters ?? []).map((parameter) => resolve<Parameter>(document, parameter));
  const body = operation.requestBody?.content;
  return (
    <article className="card section operation" id={entry.id} aria-labelledby={`${entry.id}-title`} data-testid="operation">
      <h3 id={`${entry.id}-title`}>{operation.summary ?? entry.path}</h3>
      <p className="operation-line">
        <MethodBadge method={entry.method} /> <code className="operation-path">{entry.path}</code>
      </p>
      <AccessBadges operation={operation} />
      <Prose text={operation.description} />
      {parameters.length > 0 && (
        <>
          <h4>Parameters</h4>
          <ParametersTable document={document} parameters={parameters} />
        </>
      )}
      {body && (
        <>
          <h4>Request body</h4>
          <MediaView document={document} content={body} />
        </>
      )}
      <h4>Responses</h4>
      <Responses document={document} responses={operation.responses ?? {}} />
    </article>
  );
}

/** Who may call it, as badges; the description (written by the server) says it in words. */
function AccessBadges({ operation }: { operation: Operation }) {
  const credentials = credentialsOf(operation);
  const label =
    credentials.kind === 'scope'
      ? `scope ${credentials.scope}`
      : credentials.kind === 'any'
        ? 'any API key or session'
        : credentials.kind === 'session'
          ? 'dashboard session only'
          : 'public';
  return (
    <p className="operation-credentials" data-testid="operation-credentials">
      <span className={`badge badge-access-${credentials.kind}`}>{label}</span>
      {operation['x-reauth'] && <span className="badge badge-access-session">re-authentication</span>}
    </p>
  );
}

function ParametersTable({ document, parameters }: { document: OpenApiDocument; parameters: Parameter[] }) {
  return (
    <SchemaTable headings={['Name', 'In', 'Type', 'About']}>
      {parameters.map((parameter) => (
        <tr key={`${parameter.in} ${parameter.name}`}>
          <th scope="row">
            <code>{parameter.name}</code>
            {parameter.required && <span className="required">required</span>}
          </th>
          <td className="nowrap">{parameter.in}</td>
          <td>{typeLabel(document, parameter.schema)}</td>
          <td>
            <About description={parameter.description} schema={parameter.schema ? resolve(document, parameter.schema) : undefined} />
          </td>
        </tr>
      ))}
    </SchemaTable>
  );
}

/** A table of parameters or members, one row each (a second row under a member holds its own members). */
function SchemaTable({ headings, children }: { headings: string[]; children: ReactNode }) {
  return (
    <table className="table schema-table">
      <thead>
        <tr>
          {headings.map((heading) => (
            <th key={heading} scope="col">
              {heading}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

function About({ description, schema }: { description: string | undefined; schema: Schema | undefined }) {
  const notes = schema ? constraintsOf(schema) : [];
  return (
    <>
      {description ?? schema?.description}
      {notes.length > 0 && <span className="cell-note">{notes.join(' · ')}</span>}
    </>
  );
}

function Responses({ document, responses }: { document: OpenApiDocument; responses: Record<string, Response | { $ref: string }> }) {
  return (
    <dl className="responses">
      {Object.entries(responses).map(([status, value]) => {
        const response = resolve<Response>(document, value);
        return (
          <div key={status} className="response">
            <dt>
              <span className={`status status-${status.charAt(0)}`}>{status === 'default' ? 'Errors' : status}</span>{' '}
              {response.description === 'Default Response' ? null : response.description}
            </dt>
            <dd>{response.content && status !== 'default' ? <MediaView document={document} content={response.content} /> : status === 'default' ? <a href="#error-codes">Problem codes</a> : null}</dd>
          </div>
        );
      })}
    </dl>
  );
}

function MediaView({ document, content }: { document: OpenApiDocument; content: Record<string, { schema?: Schema }> }) {
  return (
    <>
      {Object.entries(content).map(([type, media]) => (
        <div key={type} className="media">
          <p className="muted">
            <code>{type}</code>
          </p>
          {media.schema && <SchemaView document={document} schema={media.schema} depth={0} />}
        </div>
      ))}
    </>
  );
}

// Deep enough for every schema of the API (widget settings nest four levels).
const MAX_DEPTH = 8;

/** Whether SchemaView lists members for this schema (an object, an array of objects, or a choice), rather than a type in words. */
function hasMembers(document: OpenApiDocument, schema: Schema): boolean {
  const { options } = alternativesOf(resolve(document, schema));
  const withMembers = (option: Schema) => {
    const inner = resolve(document, option.type === 'array' && option.items ? option.items : option);
    return Object.keys(inner.properties ?? {}).length > 0;
  };
  return options.some(withMembers);
}

function SchemaView({ document, schema, depth }: { document: OpenApiDocument; schema: Schema; depth: number }) {
  const resolved = resolve(document, schema);
  const { options, nullable } = alternativesOf(resolved);
  if (depth > MAX_DEPTH) return <p className="muted">{typeLabel(document, resolved)}</p>;
  if (options.length > 1) {
    return (
      <div className="schema-choice">
        <p className="muted">One of{nullable ? ' (or null)' : ''}:</p>
        <ol>
          {options.map((option, i) => (
            <li key={i}>
              <SchemaView document={document} schema={option} depth={depth + 1} />
            </li>
          ))}
        </ol>
      </div>
    );
  }
  const option = resolve(document, options[0] ?? resolved);
  const items = option.type === 'array' && option.items ? resolve(document, option.items) : null;
  const members = items ?? option;
  if (!members.properties || Object.keys(members.properties).length === 0) {
    const notes = constraintsOf(option);
    return (
      <p>
        {typeLabel(document, resolved)}
        {notes.length > 0 && <span className="cell-note">{notes.join(' · ')}</span>}
      </p>
    );
  }
  return (
    <>
      {(items || nullable) && <p className="muted">{typeLabel(document, resolved)}:</p>}
      <SchemaTable headings={['Member', 'Type', 'About']}>
        {Object.entries(members.properties).map(([name, member]) => (
          <Fragment key={name}>
            <tr>
              <th scope="row">
                <code>{name}</code>
                {members.required?.includes(name) && <span className="required">required</span>}
              </th>
              <td>{typeLabel(document, member)}</td>
              <td>
                <About description={undefined} schema={resolve(document, member)} />
              </td>
            </tr>
            {hasMembers(document, member) && (
              <tr className="nested-row">
                <td colSpan={3}>
                  <LazyDetails summary={`Members of ${name}`}>
                    <SchemaView document={document} schema={member} depth={depth + 1} />
                  </LazyDetails>
                </td>
              </tr>
            )}
          </Fragment>
        ))}
      </SchemaTable>
    </>
  );
}

/** A closed <details> whose content is made only once opened: the whole API's nested schemas would be a very large page. */
function LazyDetails({ summary, children }: { summary: string; children: ReactNode }) {
  const [isOpen, setOpen] = useState(false);
  return (
    <details className="schema-nested" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>{summary}</summary>
      {isOpen && children}
    </details>
  );
}

/** The stable `code` values of problem answers, as the document lists them. */
function ErrorCodes({ document }: { document: OpenApiDocument }) {
  const problem = document.components?.schemas?.Problem;
  const codes = problem?.properties?.code?.enum ?? [];
  if (!problem) return null;
  return (
    <section className="card section" aria-labelledby="error-codes" data-testid="error-codes">
      <h2 id="error-codes">Errors</h2>
      <Prose text={problem.description} />
      <p>
        Every error is <code>application/problem+json</code> (RFC 9457) with <code>type</code>, <code>title</code>, <code>status</code>,{' '}
        <code>detail</code> and one of these codes:
      </p>
      <ul className="code-list">
        {codes.map((code) => (
          <li key={String(code)}>
            <code>{String(code)}</code>
          </li>
        ))}
      </ul>
    </section>
  );
}
