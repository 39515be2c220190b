import { statusLabel } from '../lib/format';

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge badge-${status.replace(/[^a-z_]/g, '')}`} data-testid="status-badge">
      {statusLabel(status)}
    </span>
  );
}
