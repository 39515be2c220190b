import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { refusalsQuery } from '../../api/queries';
import type { Refusals } from '../../api/types';
import { ErrorNotice } from '../../components/error-notice';
import { refusalReason } from '../../lib/refusals';

const hourFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const countFormat = new Intl.NumberFormat();

/** What the front door turned away in the last 24 hours: by reason, and hour by hour. */
export function RefusalsPanel({ orgId, projectId, isVisible }: { orgId: string; projectId: string; isVisible: boolean }) {
  // Refusals keep coming while the page is open: refreshed every minute while it is shown.
  const refusals = useQuery({ ...refusalsQuery(orgId, projectId), refetchInterval: isVisible ? 60_000 : false });
  return (
    <section className="card section" aria-labelledby="refusals-title" data-testid="refusals">
      <h2 id="refusals-title">Refused in the last 24 hours</h2>
      {refusals.isPending ? (
        <p className="muted">Loading refusals…</p>
      ) : refusals.isError ? (
        <ErrorNotice error={refusals.error} />
      ) : (
        <RefusalsView refusals={refusals.data} />
      )}
    </section>
  );
}

function RefusalsView({ refusals }: { refusals: Refusals }) {
  if (refusals.total === 0) {
    return (
      <p className="muted" data-testid="refusals-none">
        Nothing was refused. Refused submissions are not stored; only their count by reason is kept here.
      </p>
    );
  }
  const reasons = [...refusals.reasons].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  return (
    <>
      <p className="hint">
        <strong data-testid="refusals-total">{countFormat.format(refusals.total)}</strong> refused. Refused submissions
        are not stored; only their count by reason is kept.
      </p>
      <HourChart hours={refusals.hours.map(({ hour, count }) => ({ start: new Date(hour), count }))} />
      <div className="table-scroll">
        <table className="table refusal-table">
          <caption className="visually-hidden">Refusals by reason</caption>
          <thead>
            <tr>
              <th scope="col">Reason</th>
              <th scope="col">Protection</th>
              <th scope="col" className="numeric">
                Count
              </th>
            </tr>
          </thead>
          <tbody>
            {reasons.map(({ code, count }) => {
              const reason = refusalReason(code);
              return (
                <tr key={code}>
                  <th scope="row">
                    {reason.label}
                    <span className="cell-note">
                      <code>{code}</code>
                    </span>
                  </th>
                  <td>{reason.group ?? '—'}</td>
                  <td className="numeric">{countFormat.format(count)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}

type HourCount = { start: Date; count: number };

const CHART_HEIGHT = 80;
const BAR_WIDTH = 10;
const BAR_GAP = 3;

/**
 * Refusals per hour, oldest first, as plain SVG bars (no chart library). The
 * picture is summed up in its caption; the table under it has the numbers by
 * reason, and each bar names its hour and count on hover.
 */
function HourChart({ hours }: { hours: HourCount[] }) {
  const id = useId();
  const peak = hours.reduce<HourCount | null>((best, hour) => (best === null || hour.count > best.count ? hour : best), null);
  if (peak === null) return null;
  const width = hours.length * (BAR_WIDTH + BAR_GAP) - BAR_GAP;
  const summary = `Refusals per hour, local time, from ${hourFormat.format(hours[0]!.start)} to now. Busiest hour: ${hourFormat.format(peak.start)} with ${countFormat.format(peak.count)}.`;
  return (
    <figure className="hour-chart">
      <svg
        viewBox={`0 0 ${width} ${CHART_HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-labelledby={`${id}-summary`}
        data-testid="refusals-chart"
      >
        {hours.map((hour, i) => {
          // An empty hour is a faint baseline; any refusal gets at least a sliver, so one still shows.
          const height = hour.count === 0 ? 1 : Math.max(2, Math.round((hour.count / peak.count) * CHART_HEIGHT));
          return (
            <rect
              key={hour.start.getTime()}
              className={hour.count === 0 ? 'hour-bar hour-bar-empty' : 'hour-bar'}
              x={i * (BAR_WIDTH + BAR_GAP)}
              y={CHART_HEIGHT - height}
              width={BAR_WIDTH}
              height={height}
            >
              <title>{`${hourFormat.format(hour.start)}: ${countFormat.format(hour.count)}`}</title>
            </rect>
          );
        })}
      </svg>
      <div className="hour-axis" aria-hidden="true">
        <span>{hourFormat.format(hours[0]!.start)}</span>
        <span>peak {countFormat.format(peak.count)}</span>
        <span>now</span>
      </div>
      <figcaption id={`${id}-summary`} className="visually-hidden">
        {summary}
      </figcaption>
    </figure>
  );
}
