/** A rating as stars when it fits a 1–5 scale, else the plain number. */
export function Rating({ value }: { value: number | null }) {
  if (value === null) return <span className="muted">No rating</span>;
  const label = `Rating ${value} of 5`;
  if (Number.isInteger(value) && value >= 0 && value <= 5) {
    return (
      <span className="rating" role="img" aria-label={label} title={label}>
        <span className="rating-on">{'★'.repeat(value)}</span>
        <span className="rating-off">{'★'.repeat(5 - value)}</span>
      </span>
    );
  }
  return <span className="rating">Rating {value}</span>;
}
