import { useEffect, useRef, useState } from 'react';

/**
 * A QR code drawn on a canvas in the browser: the secret it carries never
 * leaves the page, and a canvas needs no img-src exception in the CSP.
 */
export function QrCode({ text, label }: { text: string; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [hasFailed, setFailed] = useState(false);

  useEffect(() => {
    const element = canvas.current;
    if (element === null) return;
    // Loaded on first use: only the pages that set up an authenticator app need it.
    import('qrcode')
      .then(({ toCanvas }) => toCanvas(element, text, { width: 192, margin: 2, errorCorrectionLevel: 'M' }))
      .catch(() => setFailed(true));
  }, [text]);

  if (hasFailed) return <p className="notice notice-error">The QR code could not be drawn; type the key below instead.</p>;
  return <canvas ref={canvas} className="qr-code" role="img" aria-label={label} />;
}
