// Captures the tab with the browser's own screen capture: pixel-exact (fonts,
// cross-origin images, video), but the browser asks the visitor to pick and
// allow it. One frame is drawn to a canvas and the stream is stopped at once.
// Real pixels cannot be left out before capture, so what the DOM capture would
// mask or leave out (form controls, iframes such as payment fields,
// contenteditable, [data-parley-mask], [data-parley-ignore]) is painted over
// with grey where it sits in the viewport.
import { MASK_FILL, isMasked } from './capture-dom.js';

const MAX_SIDE = 2560;
const FRAME_TIMEOUT_MS = 1500;

// Offer this tab first; the other hints are ignored where unsupported.
const DISPLAY_OPTIONS = {
  video: { displaySurface: 'browser' },
  audio: false,
  preferCurrentTab: true,
  selfBrowserSurface: 'include',
  surfaceSwitching: 'exclude',
  monitorTypeSurfaces: 'exclude',
} as DisplayMediaStreamOptions;

/** Resolves once the video shows a frame that was captured after it started playing. */
function nextFrame(video: HTMLVideoElement): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, FRAME_TIMEOUT_MS);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    // Not in every browser yet (TypeScript's DOM types assume it is).
    if (typeof video.requestVideoFrameCallback === 'function') video.requestVideoFrameCallback(done);
    else (video as HTMLVideoElement).addEventListener('timeupdate', done, { once: true });
  });
}

/** Masked and ignored elements, in open shadow roots too, outermost only; none of the widget's own. */
function findCovered(root: ParentNode, exclude: Element, found: Element[] = []): Element[] {
  for (const element of Array.from(root.querySelectorAll('*'))) {
    if (exclude.contains(element)) continue;
    if (element.hasAttribute('data-parley-ignore') || (isMasked(element) && !(element instanceof HTMLInputElement && element.type === 'hidden'))) {
      if (!found.some((outer) => outer.contains(element))) found.push(element);
    } else if (element.shadowRoot) {
      findCovered(element.shadowRoot, exclude, found);
    }
  }
  return found;
}

function coverMasked(context: CanvasRenderingContext2D, exclude: Element): void {
  const scaleX = context.canvas.width / window.innerWidth;
  const scaleY = context.canvas.height / window.innerHeight;
  context.fillStyle = MASK_FILL;
  for (const element of findCovered(document, exclude)) {
    for (const box of Array.from(element.getClientRects())) {
      context.fillRect(Math.floor(box.left * scaleX), Math.floor(box.top * scaleY), Math.ceil(box.width * scaleX) + 1, Math.ceil(box.height * scaleY) + 1);
    }
  }
}

/**
 * `hideWidget` hides the widget (its own dialog included) before the browser
 * asks, so the shot shows the page alone; it returns the function that shows
 * it again. Throws when the visitor refuses or the browser cannot capture.
 */
export async function captureDisplay(exclude: Element, hideWidget: () => () => void): Promise<HTMLCanvasElement> {
  const showWidget = hideWidget();
  const video = document.createElement('video');
  let stream: MediaStream | undefined;
  try {
    // Called before any other await: the browser requires the visitor's click to be recent.
    stream = await navigator.mediaDevices.getDisplayMedia(DISPLAY_OPTIONS);
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    await video.play();
    await nextFrame(video);
    const { videoWidth: width, videoHeight: height } = video;
    if (!width || !height) throw new Error('No video frame');
    const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('No 2D canvas');
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    coverMasked(context, exclude);
    return canvas;
  } finally {
    for (const track of stream?.getTracks() ?? []) track.stop();
    video.srcObject = null;
    showWidget();
  }
}
