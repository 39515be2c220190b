/**
 * Saves text or a fetched file under `name`, through a short-lived blob: URL
 * (nothing leaves the browser, and the CSP needs no exception for a download).
 */
export function saveFile(name: string, content: Blob | string): void {
  const blob = typeof content === 'string' ? new Blob([content], { type: 'text/plain;charset=utf-8' }) : content;
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The click has started the download; the URL is no longer needed.
  window.setTimeout(() => URL.revokeObjectURL(url), 0);
}
