// Renders the visible part of the host page to a canvas without changing the
// page: the composed DOM is read, written out as XHTML with every computed
// style inlined inside an SVG <foreignObject>, and the browser rasterizes that
// SVG as an image (a data: URL, which a strict CSP allows through img-src).
//
// We do not use html-to-image: it copies input values into its clone (so a
// typed secret would reach the SVG) and fetches images and fonts (requests a
// strict connect-src refuses). Here, while serializing:
// - every form control (value, checked state, selection), contenteditable
//   region, [data-parley-mask] element, iframe, embed and video becomes a grey
//   block of the same size; its content is never read, let alone written out;
// - [data-parley-ignore] elements and the widget's own host are left out;
// - nothing is fetched: <img>, <canvas> and video pixels are copied from what
//   the page has already decoded (a cross-origin image taints the copy and
//   becomes a grey block); CSS url() images are dropped and web fonts fall back
//   to local ones. An SVG image cannot load anything itself, so capturing
//   sends no request at all.

const SVG_NS = 'http://www.w3.org/2000/svg';
const XHTML_NS = 'http://www.w3.org/1999/xhtml';
export const MASK_FILL = '#c3c7cd';
const PLACEHOLDER_FILL = '#e4e7eb';
/** The longest side of the captured bitmap; the server refuses more than 8000. */
const MAX_SIDE = 2560;

/**
 * Properties never written out: motion (an image shows one moment, and a
 * running animation would restart from its first frame), interaction and
 * scrolling only, logical aliases of the physical properties that are written
 * anyway, and content-visibility (it would skip painting what the page shows).
 */
const SKIPPED_PROPERTY =
  /^(animation|transition|cursor|pointer-events|user-select|-webkit-user-(select|drag)|touch-action|caret|scroll|overscroll|content-visibility|view-t|timeline|trigger|interest|interactivity|app-region|window-drag|-webkit-tap)|-(block|inline)(-|$)|^(block|inline)-size$|^inset-|^(border|corner)-(start|end)-(start|end)-/;

/**
 * The inherited properties Chromium 156 computes (CSS specs say which): left
 * out when equal to the parent's value. Every other property counts as not
 * inherited and is left out when it has its initial value. A property missing
 * here would at worst take its parent's value in the image: a rendering slip,
 * never a privacy one.
 */
const INHERITED = new Set(
  (
    'accent-color border-collapse caption-side clip-rule color color-interpolation color-interpolation-filters color-rendering ' +
    'color-scheme direction dominant-baseline dynamic-range-limit empty-cells fill fill-opacity fill-rule font-family ' +
    'font-feature-settings font-kerning font-language-override font-optical-sizing font-palette font-size font-size-adjust ' +
    'font-stretch font-style font-synthesis-small-caps font-synthesis-style font-synthesis-weight font-variant ' +
    'font-variant-alternates font-variant-caps font-variant-east-asian font-variant-emoji font-variant-ligatures ' +
    'font-variant-numeric font-variant-position font-variation-settings font-weight forced-color-adjust hyphenate-character ' +
    'hyphenate-limit-chars hyphens image-orientation image-rendering letter-spacing line-break line-height list-style-image ' +
    'list-style-position list-style-type marker-end marker-mid marker-start math-depth math-shift math-style orphans ' +
    'overflow-wrap paint-order print-color-adjust quotes ruby-align ruby-overhang ruby-position shape-rendering stroke ' +
    'stroke-dasharray stroke-dashoffset stroke-linecap stroke-linejoin stroke-miterlimit stroke-opacity stroke-width tab-size ' +
    'text-align text-align-last text-anchor text-autospace text-box-edge text-combine-upright text-decoration-skip-ink ' +
    'text-emphasis-color text-emphasis-position text-emphasis-style text-indent text-justify text-orientation text-rendering ' +
    'text-shadow text-size-adjust text-spacing-trim text-transform text-underline-offset text-underline-position ' +
    'text-wrap-mode text-wrap-style visibility white-space-collapse widows word-break word-spacing writing-mode ' +
    '-webkit-border-horizontal-spacing -webkit-border-vertical-spacing -webkit-box-direction -webkit-font-smoothing ' +
    '-webkit-line-break -webkit-locale -webkit-rtl-ordering -webkit-ruby-position -webkit-text-combine ' +
    '-webkit-text-decorations-in-effect -webkit-text-fill-color -webkit-text-orientation -webkit-text-security ' +
    '-webkit-text-stroke-color -webkit-text-stroke-width -webkit-user-modify -webkit-writing-mode'
  ).split(' '),
);

/** Never rendered, or styles already inlined. */
const SKIPPED_TAGS = new Set(['head', 'script', 'style', 'link', 'meta', 'title', 'template', 'noscript', 'source', 'track', 'datalist', 'area', 'map', 'base', 'param']);
/** Their content cannot or must not be copied: shown as a grey block. */
const BLOCKED_TAGS = new Set(['textarea', 'select', 'iframe', 'frame', 'frameset', 'embed', 'object', 'audio', 'portal', 'fencedframe']);
const BUTTON_INPUTS = new Set(['button', 'submit', 'reset']);
const HTML_ATTRIBUTES = ['lang', 'dir', 'colspan', 'rowspan', 'span', 'start', 'reversed', 'open', 'min', 'max', 'low', 'high', 'optimum'];
const VALUE_ATTRIBUTE_TAGS = new Set(['li', 'progress', 'meter']);
const NAME = /^[A-Za-z_][\w.-]*$/;
// Characters XML does not allow (control characters, lone surrogates, U+FFFE/F) are dropped.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const XML_UNSAFE = /[&<>"]|[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

const escapeXml = (text: string): string => text.replace(XML_UNSAFE, (char) => ENTITIES[char] ?? '');

type Styles = {
  names: string[];
  /** transform-origin and perspective-origin: always resolved to pixels, but only worth writing for a transformed box. */
  originIndexes: number[];
  initial: string[];
  /** The property's initial value is currentcolor: it starts as the element's own colour. */
  isCurrentColor: boolean[];
  isInherited: boolean[];
  colorIndex: number;
};

type Walk = Styles & {
  exclude: Element;
  out: string[];
  rules: string[];
  /** Ancestors of absolutely and fixed positioned boxes: those may reach into view, so they are never pruned. */
  holdsOutOfFlow: Set<Element>;
  width: number;
  height: number;
  scrollX: number;
  scrollY: number;
  scale: number;
  pageUrl: string;
};

type Parent = {
  values: string[] | null;
  namespace: string;
  /** A position: fixed box in here is placed against the viewport (no transform, filter or containment on the way). */
  isFixedToViewport: boolean;
  /** An inner scroller's offset, applied to each child box of a flex or grid scroller. */
  shift: [number, number] | null;
};

/**
 * Reads the computed initial value of every property from two probes that the
 * editor stylesheet resets with `all: initial` (the second with a colour, to
 * find the properties whose initial value is currentcolor).
 */
function readInitialStyles(container: HTMLElement): Styles {
  const plain = document.createElement('span');
  const coloured = document.createElement('span');
  plain.className = 'pss-probe';
  coloured.className = 'pss-probe pss-probe-color';
  container.append(plain, coloured);
  try {
    const base = getComputedStyle(plain);
    const tinted = getComputedStyle(coloured);
    if (base.display !== 'inline' || tinted.color !== 'rgb(1, 2, 3)') throw new Error('probe stylesheet missing');
    const names = Array.from(base).filter((name) => !name.startsWith('--') && !SKIPPED_PROPERTY.test(name));
    return {
      names,
      initial: names.map((name) => base.getPropertyValue(name)),
      isCurrentColor: names.map((name) => name !== 'color' && tinted.getPropertyValue(name) === 'rgb(1, 2, 3)'),
      isInherited: names.map((name) => INHERITED.has(name)),
      colorIndex: names.indexOf('color'),
      originIndexes: [names.indexOf('transform-origin'), names.indexOf('perspective-origin')],
    };
  } finally {
    plain.remove();
    coloured.remove();
  }
}

/**
 * The declarations that make the copy compute to `values`. The copy's
 * stylesheet unsets everything (`all: unset`), so a property is left out when
 * the copy gets the same value anyway: an inherited one equal to the parent's,
 * any other one equal to its initial value.
 */
function declarations(values: string[], parent: string[] | null, walk: Walk): string {
  let text = '';
  const colour = values[walk.colorIndex];
  for (let index = 0; index < values.length; index++) {
    const value = values[index]!;
    if (!value) continue;
    if (walk.isInherited[index] ? value === (parent ? parent[index] : walk.initial[index]) : value === (walk.isCurrentColor[index] ? colour : walk.initial[index])) {
      continue;
    }
    text += `${walk.names[index]}:${value.includes('url(') ? keepLocalUrls(value, walk.pageUrl) : value};`;
  }
  return text;
}

/** data: URLs and references into the page itself (SVG gradients, clip paths) stay; anything else would need a request: dropped. */
function keepLocalUrls(value: string, pageUrl: string): string {
  return value.replace(/url\("((?:[^"\\]|\\.)*)"\)/g, (whole, url: string) => {
    if (url.startsWith('data:')) return whole;
    if (url.startsWith('#')) return whole;
    if (url.startsWith(`${pageUrl}#`)) return `url("${url.slice(pageUrl.length)}")`;
    return 'none';
  });
}

function readValues(style: CSSStyleDeclaration, walk: Walk): string[] {
  const values = walk.names.map((name) => style.getPropertyValue(name));
  const isTransformed = style.transform !== 'none' || style.translate !== 'none' || style.rotate !== 'none' || style.scale !== 'none';
  if (!isTransformed) values[walk.originIndexes[0]!] = '';
  if (style.perspective === 'none') values[walk.originIndexes[1]!] = '';
  return values;
}

/** Transforms, filters and containment make an element the containing block of its position: fixed descendants. */
function containsFixed(style: CSSStyleDeclaration): boolean {
  return (
    style.transform !== 'none' ||
    style.translate !== 'none' ||
    style.rotate !== 'none' ||
    style.scale !== 'none' ||
    style.perspective !== 'none' ||
    style.filter !== 'none' ||
    style.backdropFilter !== 'none' ||
    style.containerType !== 'normal' ||
    /paint|layout|strict|content/.test(style.contain) ||
    /transform|perspective|filter/.test(style.willChange)
  );
}

/** Copies pixels the page has already decoded; undefined when they are cross-origin (the canvas is tainted) or not there. */
function copyPixels(source: CanvasImageSource, width: number, height: number, boxWidth: number, boxHeight: number, scale: number): string | undefined {
  if (!width || !height) return undefined;
  // Not larger than the box shows it (at the capture's scale), not larger than the source, same aspect ratio.
  const factor = Math.min(1, Math.max(boxWidth / width, boxHeight / height) * scale);
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(width * factor));
  canvas.height = Math.max(1, Math.round(height * factor));
  try {
    canvas.getContext('2d')?.drawImage(source, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL();
  } catch {
    return undefined;
  }
}

function pixelsOf(element: Element, walk: Walk): string | undefined {
  const { offsetWidth: boxWidth, offsetHeight: boxHeight } = element as HTMLElement;
  if (element instanceof HTMLImageElement) {
    return element.complete ? copyPixels(element, element.naturalWidth, element.naturalHeight, boxWidth, boxHeight, walk.scale) : undefined;
  }
  if (element instanceof HTMLCanvasElement) return copyPixels(element, element.width, element.height, boxWidth, boxHeight, walk.scale);
  if (element instanceof HTMLVideoElement && element.readyState >= 2) {
    return copyPixels(element, element.videoWidth, element.videoHeight, boxWidth, boxHeight, walk.scale);
  }
  return undefined;
}

export function isMasked(element: Element): boolean {
  if (element.hasAttribute('data-parley-mask') || BLOCKED_TAGS.has(element.localName)) return true;
  if (element instanceof HTMLInputElement) return !BUTTON_INPUTS.has(element.type);
  return element instanceof HTMLElement && element.isContentEditable;
}

/** A grey block of the element's size in its place: keeps the layout, shows nothing of the content. */
function writeBlock(element: Element, style: CSSStyleDeclaration, values: string[], parent: Parent, fill: string, walk: Walk, extra: string): void {
  if (element.namespaceURI === SVG_NS) {
    try {
      const box = (element as SVGGraphicsElement).getBBox();
      walk.out.push(`<rect x="${box.x}" y="${box.y}" width="${box.width}" height="${box.height}" fill="${fill}"/>`);
    } catch {
      // Not rendered: nothing to cover.
    }
    return;
  }
  const { display } = style;
  if (display === 'contents') return;
  const isInline = display === 'inline';
  const box = isInline ? element.getBoundingClientRect() : { width: (element as HTMLElement).offsetWidth, height: (element as HTMLElement).offsetHeight };
  const namespace = parent.namespace === XHTML_NS ? '' : ` xmlns="${XHTML_NS}"`;
  const block =
    `${isInline ? 'display:inline-block;' : ''}box-sizing:border-box;width:${box.width}px;height:${box.height}px;padding:0;border:0 none;` +
    `background:${fill};color:transparent;text-shadow:none;box-shadow:none;overflow:hidden;appearance:none;outline:0;resize:none;`;
  walk.out.push(`<div${namespace} style="${escapeXml(declarations(values, parent.values, walk) + extra + block)}"></div>`);
}

function writeImage(source: string, values: string[], parent: Parent, walk: Walk, extra: string): void {
  const namespace = parent.namespace === XHTML_NS ? '' : ` xmlns="${XHTML_NS}"`;
  walk.out.push(`<img${namespace} src="${escapeXml(source)}" style="${escapeXml(declarations(values, parent.values, walk) + extra)}"/>`);
}

function attributesOf(element: Element, isSvg: boolean): string {
  let text = '';
  if (isSvg) {
    const seen = new Set<string>();
    for (const { name, value } of Array.from(element.attributes)) {
      // Styles are inlined; scripts never run in an image; only in-page references and data: images can load.
      const local = name === 'xlink:href' ? 'href' : name;
      if (!NAME.test(local) || seen.has(local) || local === 'style' || local === 'class' || /^on/i.test(local)) continue;
      if (local === 'href' && !value.startsWith('#') && !value.startsWith('data:image/')) continue;
      seen.add(local);
      text += ` ${local}="${escapeXml(value)}"`;
    }
    return text;
  }
  for (const name of HTML_ATTRIBUTES) {
    const value = element.getAttribute(name);
    if (value !== null) text += ` ${name}="${escapeXml(value)}"`;
  }
  if (VALUE_ATTRIBUTE_TAGS.has(element.localName) && element.hasAttribute('value')) {
    text += ` value="${escapeXml(element.getAttribute('value')!)}"`;
  }
  return text;
}

/** The children as rendered: an open shadow root replaces the light DOM, a slot shows what is assigned to it. */
function renderedChildren(element: Element): ArrayLike<Node> {
  if (element instanceof HTMLSlotElement) {
    const assigned = element.assignedNodes({ flatten: true });
    if (assigned.length) return assigned;
  }
  return (element.shadowRoot ?? element).childNodes;
}

/** Below, above or beside the viewport, with nothing that could reach into it: the box is kept (its size holds the layout), its content is not written. */
function isOutOfView(element: Element, style: CSSStyleDeclaration, walk: Walk): boolean {
  if (walk.holdsOutOfFlow.has(element) || element.shadowRoot || element.getRootNode() !== document) return false;
  if (!/^(block|flow-root|flex|grid|list-item|table)$/.test(style.display)) return false;
  if (element.scrollHeight > element.clientHeight + 1 || element.scrollWidth > element.clientWidth + 1) return false;
  const box = element.getBoundingClientRect();
  return box.bottom <= 0 || box.top >= walk.height || box.right <= 0 || box.left >= walk.width;
}

function writeNode(node: Node, parent: Parent, walk: Walk): void {
  if (node.nodeType === Node.TEXT_NODE) walk.out.push(escapeXml((node as Text).data));
  else if (node.nodeType === Node.ELEMENT_NODE) writeElement(node as Element, parent, walk);
}

function writeElement(element: Element, parent: Parent, walk: Walk): void {
  const namespace = element.namespaceURI ?? '';
  const tag = element.localName;
  const isSvg = namespace === SVG_NS;
  if (element === walk.exclude || element.hasAttribute('data-parley-ignore') || SKIPPED_TAGS.has(tag)) return;
  if (!isSvg && namespace !== XHTML_NS) return;
  if (tag === 'input' && (element as HTMLInputElement).type === 'hidden') return;

  const style = getComputedStyle(element);
  // SVG definitions (symbols, gradients) are referenced even when not rendered themselves.
  if (!isSvg && (style.display === 'none' || (style.display !== 'contents' && element.getClientRects().length === 0))) return;

  const values = readValues(style, walk);
  let extra = '';
  if (style.position === 'fixed' && parent.isFixedToViewport) {
    // The foreignObject sits at the page's origin; the viewport is scrolled away from it.
    const top = parseFloat(style.top);
    const left = parseFloat(style.left);
    if (Number.isFinite(top) && Number.isFinite(left)) {
      extra += `top:${top + walk.scrollY}px;left:${left + walk.scrollX}px;bottom:auto;right:auto;`;
    }
  }
  if (parent.shift && style.translate === 'none') extra += `translate:${parent.shift[0]}px ${parent.shift[1]}px;`;
  if (element === document.documentElement) extra += 'overflow:visible;';
  if (element === document.body && getComputedStyle(document.documentElement).overflow === 'visible') extra += 'overflow:visible;';
  // A symbol is only drawn through <use>, which copies its attributes: a copied display: none would hide it there too.
  if (tag === 'symbol') extra += 'display:inline;';

  if (isMasked(element)) {
    writeBlock(element, style, values, parent, MASK_FILL, walk, extra);
    return;
  }
  if (tag === 'img' || tag === 'canvas' || tag === 'video') {
    const pixels = pixelsOf(element, walk);
    if (pixels) writeImage(pixels, values, parent, walk, extra);
    else writeBlock(element, style, values, parent, PLACEHOLDER_FILL, walk, extra);
    return;
  }

  let attributes = namespace === parent.namespace ? '' : ` xmlns="${namespace}"`;
  attributes += attributesOf(element, isSvg);
  if (tag === 'input') {
    // Only button-like inputs get here; their value is the page's own label.
    const input = element as HTMLInputElement;
    attributes += ` type="${input.type}" value="${escapeXml(input.value)}"`;
  }
  const id = walk.rules.length;
  const pseudo = isSvg ? '' : pseudoElementRules(element, `[data-p="${id}"]`, values, walk);
  if (pseudo) {
    walk.rules.push(pseudo);
    attributes += ` data-p="${id}"`;
  }
  const name = NAME.test(tag) ? tag : style.display.startsWith('inline') ? 'span' : 'div';
  walk.out.push(`<${name}${attributes} style="${escapeXml(declarations(values, parent.values, walk) + extra)}">`);

  if (isSvg || !isOutOfView(element, style, walk)) {
    const isScrolled = !isSvg && element !== document.scrollingElement && (element.scrollTop !== 0 || element.scrollLeft !== 0);
    const children: Parent = {
      values,
      namespace,
      isFixedToViewport: parent.isFixedToViewport && !containsFixed(style),
      shift: null,
    };
    // An inner scroller: the copy cannot be scrolled, so its content is moved instead.
    const isFlowScroller = isScrolled && /^(block|flow-root|list-item|inline-block|table-cell)$/.test(style.display);
    if (isFlowScroller) walk.out.push(`<div style="display:block;position:relative;top:${-element.scrollTop}px;left:${-element.scrollLeft}px">`);
    else if (isScrolled) children.shift = [-element.scrollLeft, -element.scrollTop];
    for (const child of Array.from(renderedChildren(element))) writeNode(child, children, walk);
    if (isFlowScroller) walk.out.push('</div>');
  }
  walk.out.push(`</${name}>`);
}

/** ::before and ::after cannot be inline styles: their rules, for the stylesheet of the copy. */
function pseudoElementRules(element: Element, selector: string, values: string[], walk: Walk): string {
  let rules = '';
  for (const pseudo of ['::before', '::after']) {
    const style = getComputedStyle(element, pseudo);
    if (!style.content || style.content === 'none' || style.content === 'normal') continue;
    rules += `${selector}${pseudo}{${declarations(readValues(style, walk), values, walk)}}`;
  }
  return rules;
}

function findOutOfFlowAncestors(): Set<Element> {
  const holders = new Set<Element>();
  for (const element of Array.from(document.body?.querySelectorAll('*') ?? [])) {
    const { position } = getComputedStyle(element);
    if (position !== 'absolute' && position !== 'fixed') continue;
    for (let ancestor = element.parentElement; ancestor && !holders.has(ancestor); ancestor = ancestor.parentElement) holders.add(ancestor);
  }
  return holders;
}

function pageBackground(): string {
  for (const element of [document.documentElement, document.body]) {
    const colour = element ? getComputedStyle(element).backgroundColor : '';
    if (colour && colour !== 'rgba(0, 0, 0, 0)' && colour !== 'transparent') return colour;
  }
  return '#fff';
}

export type Viewport = { width: number; height: number; scale: number };

/** The SVG document for the viewport as it is now. */
export function serializeViewport(exclude: Element, probeContainer: HTMLElement): { svg: string; viewport: Viewport } {
  const root = document.documentElement;
  const width = root.clientWidth || window.innerWidth;
  const height = root.clientHeight || window.innerHeight;
  const scale = Math.min(window.devicePixelRatio || 1, MAX_SIDE / Math.max(width, height));
  const walk: Walk = {
    ...readInitialStyles(probeContainer),
    exclude,
    out: [],
    rules: [],
    holdsOutOfFlow: findOutOfFlowAncestors(),
    width,
    height,
    scrollX: window.scrollX,
    scrollY: window.scrollY,
    scale,
    pageUrl: location.href.split('#')[0]!,
  };
  writeElement(root, { values: null, namespace: SVG_NS, isFixedToViewport: true, shift: null }, walk);
  // Scrollbars would take room the page's (often overlay) scrollbars do not.
  const css = `foreignObject *{all:unset;scrollbar-width:none}${walk.rules.join('')}`;
  const svg =
    `<svg xmlns="${SVG_NS}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<style>${escapeXml(css)}</style><rect width="100%" height="100%" fill="${escapeXml(pageBackground())}"/>` +
    // The page is laid out in a viewport-sized box at its own origin, moved by the scroll offset; what falls outside is cut off by the SVG.
    `<foreignObject x="${-walk.scrollX}" y="${-walk.scrollY}" width="${width}" height="${height}" style="overflow:visible">${walk.out.join('')}</foreignObject></svg>`;
  return { svg, viewport: { width, height, scale } };
}

function loadImage(source: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error('The page could not be rendered'));
    image.src = source;
  });
}

/** Waits one frame (painting a foreignObject image may lag its load event), but not forever in a background tab. */
const nextFrame = (): Promise<void> =>
  new Promise((resolve) => {
    requestAnimationFrame(() => resolve());
    setTimeout(resolve, 100);
  });

export async function captureDom(exclude: Element, probeContainer: HTMLElement): Promise<HTMLCanvasElement> {
  const { svg, viewport } = serializeViewport(exclude, probeContainer);
  // A data: URL, not a blob: URL: Chromium taints a canvas that draws a blob: SVG with a foreignObject.
  const image = await loadImage(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`);
  await image.decode();
  await nextFrame();
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(viewport.width * viewport.scale);
  canvas.height = Math.round(viewport.height * viewport.scale);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('No 2D canvas');
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  return canvas;
}
