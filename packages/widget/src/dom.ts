type Attrs = Record<string, string | boolean>;

// Every node is built with createElement and text nodes, never innerHTML:
// no markup parsing means no injection path for server or visitor text, and
// no inline style attributes for a strict CSP to block.
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== false) element.setAttribute(name, value === true ? '' : value);
  }
  element.append(...children);
  return element;
}
