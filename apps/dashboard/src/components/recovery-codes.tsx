import { useQuery } from '@tanstack/react-query';
import { meQuery } from '../api/queries';
import { saveFile } from '../lib/download';
import { CopyButton } from './copy-button';

type Props = {
  codes: string[];
  doneLabel: string;
  onDone: () => void;
};

/** New recovery codes, shown once: save them (file or copy) before going on. */
export function RecoveryCodes({ codes, doneLabel, onDone }: Props) {
  const { data: me } = useQuery(meQuery);
  const text = codes.join('\n');

  function download() {
    const account = me === undefined ? '' : ` for ${me.user.email}`;
    saveFile(
      'parley-recovery-codes.txt',
      `Parley recovery codes${account}\nSaved ${new Date().toISOString()}\n\n${text}\n\nEach code works once, in place of your authenticator app or passkey.\n`,
    );
  }

  return (
    <div className="secret-reveal" data-testid="recovery-codes">
      <p className="notice notice-warning" role="alert">
        Save these recovery codes somewhere safe, such as a password manager. Each works once if you lose your
        authenticator app or passkey. They will not be shown again.
      </p>
      <ol className="recovery-codes" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code} className="mono">
            {code}
          </li>
        ))}
      </ol>
      <div className="form-actions">
        <button type="button" className="button button-secondary button-small" onClick={download} autoFocus>
          Download as .txt
        </button>
        <CopyButton text={text} label="Copy codes" />
      </div>
      <button type="button" className="button button-primary" onClick={onDone}>
        {doneLabel}
      </button>
    </div>
  );
}
