type Attrs = Record<string, string | boolean | undefined>;

// Every node is built with createElement and text nodes, never innerHTML:
// no markup parsing means no injection path for server or visitor text, and
// no inline style attributes for a strict CSP to block.
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, children: (Node | string)[] = []): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== false && value !== undefined) element.setAttribute(name, value === true ? '' : value);
  }
  element.append(...children);
  return element;
}

const SVG = 'http://www.w3.org/2000/svg';

/** A decorative 24×24 icon from path data; screen readers skip it (the control around it carries the name). */
export function icon(...paths: string[]): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const d of paths) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

/** Runs `task` once document.body exists (an async loader may run before the body is parsed). */
export function whenBodyReady(task: () => void): void {
  if (document.body) task();
  else document.addEventListener('DOMContentLoaded', task, { once: true });
}
