import sharp from 'sharp';
import { AppError } from '../errors.js';

export const SCREENSHOT_MAX_BYTES = 5 * 1024 * 1024;
export const SCREENSHOT_MAX_SIDE = 8000;

export type Reencoded = { data: Buffer; contentType: 'image/png' | 'image/webp'; width: number; height: number };

type Format = 'png' | 'jpeg' | 'webp';

/** The format the bytes really are, from their magic numbers; the declared Content-Type is not trusted. */
export function sniffImage(bytes: Buffer): Format | null {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return null;
}

// Decoding is the expensive, memory-hungry part of an upload: at most two at
// once per process, the rest wait their turn (ASVS 15: DoS guard).
const MAX_CONCURRENT = 2;
let running = 0;
const waiting: (() => void)[] = [];

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/**
 * Accepts a PNG, JPEG or WebP screenshot and re-encodes it: whatever else the
 * file carried (EXIF and other metadata, a script appended after the image
 * data, a second format) does not survive. PNG stays lossless; the others
 * become WebP. Anything that does not decode as what its bytes claim is refused.
 */
export function reencodeScreenshot(bytes: Buffer): Promise<Reencoded> {
  const format = sniffImage(bytes);
  if (!format) throw new AppError('screenshot_invalid', 'Send a PNG, JPEG or WebP image.');
  return limited(async () => {
    const refuse = () => new AppError('screenshot_invalid', 'The image could not be read as a PNG, JPEG or WebP.');
    // limitInputPixels refuses decompression bombs before any pixel is decoded.
    const image = sharp(bytes, { limitInputPixels: SCREENSHOT_MAX_SIDE * SCREENSHOT_MAX_SIDE, failOn: 'error' });
    const meta = await image.metadata().catch(() => {
      throw refuse();
    });
    if (meta.format !== format) throw refuse();
    if (!meta.width || !meta.height || meta.width > SCREENSHOT_MAX_SIDE || meta.height > SCREENSHOT_MAX_SIDE) {
      throw new AppError('screenshot_invalid', `Screenshots may be at most ${SCREENSHOT_MAX_SIDE} pixels a side.`);
    }
    // rotate() applies the EXIF orientation before the metadata is dropped.
    const output = format === 'png' ? image.rotate().png({ compressionLevel: 6 }) : image.rotate().webp({ quality: 85 });
    const { data, info } = await output.toBuffer({ resolveWithObject: true }).catch(() => {
      throw refuse();
    });
    return { data, contentType: format === 'png' ? 'image/png' : 'image/webp', width: info.width, height: info.height };
  });
}
