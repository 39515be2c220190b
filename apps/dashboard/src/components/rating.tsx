import type { RatingScale } from '../api/types';

const FACES = ['😞', '🙁', '😐', '🙂', '😀'];

/**
 * A rating drawn on the scale it was given on (null: stars, as before scales
 * existed). A value outside its scale's range is shown as the plain number.
 */
export function Rating({ value, scale }: { value: number | null; scale: RatingScale | null }) {
  const mode = scale ?? 'stars';
  if (value === null) return <span className="muted">No rating</span>;
  const isWhole = Number.isInteger(value);

  if (mode === 'thumbs' && isWhole && (value === 0 || value === 1)) {
    const label = value === 1 ? 'Thumbs up' : 'Thumbs down';
    return (
      <span className={`rating rating-thumbs rating-thumbs-${value === 1 ? 'up' : 'down'}`} role="img" aria-label={label} title={label}>
        {value === 1 ? '▲ Up' : '▼ Down'}
      </span>
    );
  }
  if (mode === 'emoji' && isWhole && value >= 1 && value <= 5) {
    const label = `Rating ${value} of 5`;
    // The number as well: not every system has a font with these faces.
    return (
      <span className="rating rating-emoji" role="img" aria-label={label} title={label}>
        {FACES[value - 1]} {value}/5
      </span>
    );
  }
  if (mode === 'nps' && isWhole && value >= 0 && value <= 10) {
    const label = `Score ${value} of 10`;
    return (
      <span className="rating rating-nps" role="img" aria-label={label} title={label}>
        {value}/10
      </span>
    );
  }
  if (isWhole && value >= 0 && value <= 5) {
    const label = `Rating ${value} of 5`;
    return (
      <span className="rating" role="img" aria-label={label} title={label}>
        <span className="rating-on">{'★'.repeat(value)}</span>
        <span className="rating-off">{'★'.repeat(5 - value)}</span>
      </span>
    );
  }
  return <span className="rating">Rating {value}</span>;
}
