import { describe, expect, it } from 'vitest';
import { describeBrowser } from './user-agent.js';

const navigatorWith = (userAgent: string, userAgentData?: unknown) => ({ userAgent, userAgentData }) as unknown as Navigator;

describe('the browser and system sent with feedback', () => {
  it('names the product from User-Agent Client Hints, not "Chromium" or the GREASE brand', () => {
    const brands = [
      { brand: 'Chromium', version: '156' },
      { brand: 'Google Chrome', version: '156' },
      { brand: 'Not_A Brand', version: '24' },
    ];
    expect(describeBrowser(navigatorWith('ignored', { brands, platform: 'macOS' }))).toEqual({ browser: 'Chrome 156', os: 'macOS' });
    expect(describeBrowser(navigatorWith('ignored', { brands: [{ brand: 'Microsoft Edge', version: '150' }, ...brands.slice(0, 1)], platform: '' }))).toEqual({ browser: 'Edge 150' });
    expect(describeBrowser(navigatorWith('ignored', { brands: brands.slice(0, 1), platform: 'Linux' }))).toEqual({ browser: 'Chromium 156', os: 'Linux' });
  });

  it.each([
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0', 'Firefox 140', 'Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.4 Safari/605.1.15', 'Safari 18', 'macOS'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 18_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.4 Mobile/15E148 Safari/604.1', 'Safari 18', 'iOS'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 18_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/136.0.7103.91 Mobile/15E148 Safari/604.1', 'Chrome 136', 'iOS'],
    ['Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Mobile Safari/537.36', 'Chrome 136', 'Android'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36 Edg/136.0.3240.64', 'Edge 136', 'Windows'],
    ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36', 'Chrome 136', 'ChromeOS'],
  ])('falls back to the User-Agent string: %s', (userAgent, browser, os) => {
    expect(describeBrowser(navigatorWith(userAgent))).toEqual({ browser, os });
  });

  it('sends nothing it cannot name', () => {
    expect(describeBrowser(navigatorWith('curl/8.5.0'))).toEqual({});
  });
});
