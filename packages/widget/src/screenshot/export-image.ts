// Encodes the annotated screenshot within the server's limits (5 MB, 8000 px a
// side): at most 2560 px on the longer side, PNG when it fits, else WebP at
// quality 0.85, else smaller.

const MAX_SIDE = 2560;
export const MAX_BYTES = 5_000_000;
const ATTEMPTS = 5;
const SHRINK = 0.75;

function toBlob(canvas: HTMLCanvasElement, type: string, quality?: number): Promise<Blob | null> {
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

function resized(source: HTMLCanvasElement, scale: number): HTMLCanvasElement {
  if (scale >= 1) return source;
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(source.width * scale));
  canvas.height = Math.max(1, Math.round(source.height * scale));
  const context = canvas.getContext('2d');
  if (!context) throw new Error('No 2D canvas');
  context.imageSmoothingQuality = 'high';
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  return canvas;
}

export async function exportImage(source: HTMLCanvasElement): Promise<Blob> {
  let scale = Math.min(1, MAX_SIDE / Math.max(source.width, source.height));
  for (let attempt = 0; attempt < ATTEMPTS; attempt++, scale *= SHRINK) {
    const canvas = resized(source, scale);
    const png = await toBlob(canvas, 'image/png');
    if (png && png.size <= MAX_BYTES) return png;
    // Browsers without a WebP encoder answer with a PNG instead.
    const webp = await toBlob(canvas, 'image/webp', 0.85);
    if (webp && webp.type === 'image/webp' && webp.size <= MAX_BYTES) return webp;
  }
  throw new Error('The screenshot does not fit the upload limit');
}
