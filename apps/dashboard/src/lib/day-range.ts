/** A day as the date inputs give it: YYYY-MM-DD. */
export const isDay = (value: unknown): value is string => typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value);

/**
 * Days picked in local time (both included) as the instants an API filters
 * on: `from` at its first moment, `to` as the first moment of the day after
 * (the APIs take `to` as "before").
 */
export function dayRange(from: string | undefined, to: string | undefined): { from?: string; to?: string } {
  const dayStart = (day: string, plusDays = 0) => {
    const date = new Date(`${day}T00:00:00`);
    date.setDate(date.getDate() + plusDays);
    return date.toISOString();
  };
  return {
    ...(from === undefined ? {} : { from: dayStart(from) }),
    ...(to === undefined ? {} : { to: dayStart(to, 1) }),
  };
}
