type Brand = { brand: string; version: string };
type UserAgentData = { brands?: Brand[]; platform?: string };
export type BrowserInfo = { browser?: string; os?: string };

// First match wins: Edge and Opera also say "Chrome", Chrome also says "Safari".
const BROWSERS: [RegExp, string][] = [
  [/Edg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/OPR\/(\d+)/, 'Opera'],
  [/SamsungBrowser\/(\d+)/, 'Samsung Internet'],
  [/(?:Firefox|FxiOS)\/(\d+)/, 'Firefox'],
  [/(?:Chrome|CriOS)\/(\d+)/, 'Chrome'],
  [/Version\/(\d+)[\d.]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
];
const SYSTEMS: [RegExp, string][] = [
  [/Windows/, 'Windows'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Android/, 'Android'],
  [/CrOS/, 'ChromeOS'],
  [/Macintosh|Mac OS X/, 'macOS'],
  [/Linux/, 'Linux'],
];

function fromUserAgent(userAgent: string): BrowserInfo {
  const browser = BROWSERS.map(([pattern, name]) => [pattern.exec(userAgent), name] as const).find(([match]) => match);
  const os = SYSTEMS.find(([pattern]) => pattern.test(userAgent));
  return { ...(browser ? { browser: `${browser[1]} ${browser[0]![1]}` } : {}), ...(os ? { os: os[1] } : {}) };
}

/**
 * A short "Chrome 156" and "Linux": from User-Agent Client Hints where the
 * browser has them (the low-entropy part, no permission needed), else from
 * the User-Agent string. The full string is never sent.
 */
export function describeBrowser(nav: Navigator): BrowserInfo {
  const data = (nav as Navigator & { userAgentData?: UserAgentData }).userAgentData;
  const brands = data?.brands?.filter(({ brand }) => !/not.?a.?brand/i.test(brand)) ?? [];
  if (brands.length === 0) return fromUserAgent(nav.userAgent);
  // "Google Chrome", "Microsoft Edge"… also list "Chromium": name the product.
  const named = brands.find(({ brand }) => brand !== 'Chromium') ?? brands[0]!;
  const browser = `${named.brand.replace(/^(Google|Microsoft) /, '')} ${named.version}`;
  return { browser, ...(data?.platform ? { os: data.platform } : {}) };
}
