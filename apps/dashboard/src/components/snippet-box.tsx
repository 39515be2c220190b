import { useId } from 'react';
import { CopyButton } from './copy-button';

type Props = {
  snippet: string;
  projectKey: string;
};

/** The widget embed code, shown as text to select or copy. */
export function SnippetBox({ snippet, projectKey }: Props) {
  const id = useId();
  return (
    <div className="snippet">
      <div className="snippet-head">
        <span className="field-label" id={`${id}-label`}>
          Embed snippet
        </span>
        <CopyButton text={snippet} label="Copy snippet" />
      </div>
      <pre className="code" aria-labelledby={`${id}-label`} data-testid="project-snippet" tabIndex={0}>
        {snippet}
      </pre>
      <p className="hint">
        Paste it before <code>&lt;/body&gt;</code> on every page that should show the feedback
        button. Project key: <code data-testid="project-key">{projectKey}</code>
      </p>
    </div>
  );
}
