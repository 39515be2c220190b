import { domainToASCII } from 'node:url';
import { AppError } from '../errors.js';

// Allowed domains for a project's widget: `example.com`, `*.example.com`,
// optionally with a scheme (`https://app.example.com`) and/or a port
// (`example.com:8443`). No scheme allows http and https; no port allows only
// the scheme's default port, as browsers define an origin. Stored in one
// normal form.

export const MAX_DOMAINS = 50;

export type DomainRule = { scheme?: 'http' | 'https'; wildcard: boolean; host: string; port?: string };

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

const invalid = (entry: string, why: string) => new AppError('domain_invalid', `"${entry.slice(0, 100)}" is not an allowed domain: ${why}`);

function parseRule(entry: string): DomainRule {
  let rest = entry.trim().toLowerCase();
  let scheme: DomainRule['scheme'];
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//.exec(rest);
  if (schemeMatch) {
    if (schemeMatch[1] !== 'http' && schemeMatch[1] !== 'https') throw invalid(entry, 'only http:// and https:// are allowed');
    scheme = schemeMatch[1];
    rest = rest.slice(schemeMatch[0].length);
  }
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  if (/[/?#@\\\s]/.test(rest)) throw invalid(entry, 'give a host name only, without path, query or credentials');
  const portMatch = /:(\d{1,5})$/.exec(rest);
  let port: string | undefined;
  if (portMatch) {
    const n = Number(portMatch[1]);
    if (n < 1 || n > 65535) throw invalid(entry, 'port must be 1 to 65535');
    rest = rest.slice(0, portMatch.index);
    // A scheme's default port is the same as no port for that scheme.
    if (!((scheme === 'https' && n === 443) || (scheme === 'http' && n === 80))) port = String(n);
  }
  const wildcard = rest.startsWith('*.');
  if (wildcard) rest = rest.slice(2);
  if (rest.endsWith('.')) rest = rest.slice(0, -1);
  if (rest.includes('*')) throw invalid(entry, 'a wildcard may only be the first label, as in *.example.com');
  const host = domainToASCII(rest);
  if (!host) throw invalid(entry, 'not a valid host name');
  if (IPV4.test(host)) {
    if (wildcard) throw invalid(entry, 'an IP address cannot have a wildcard');
    if (!host.split('.').every((octet) => Number(octet) <= 255)) throw invalid(entry, 'not a valid IP address');
    return { scheme, wildcard, host, port };
  }
  const labels = host.split('.');
  if (!labels.every((label) => HOST_LABEL.test(label))) throw invalid(entry, 'not a valid host name');
  if (wildcard && labels.length < 2) throw invalid(entry, 'a wildcard must sit under a registrable domain, as in *.example.com (not *.com)');
  if (labels.length < 2 && host !== 'localhost') throw invalid(entry, 'use a full domain such as example.com');
  return { scheme, wildcard, host, port };
}

function formatRule(rule: DomainRule): string {
  return `${rule.scheme ? `${rule.scheme}://` : ''}${rule.wildcard ? '*.' : ''}${rule.host}${rule.port ? `:${rule.port}` : ''}`;
}

/** Validates and normalises a list of entries (Unicode and punycode become one form); duplicates collapse. */
export function normalizeDomains(entries: string[]): string[] {
  if (entries.length > MAX_DOMAINS) throw new AppError('domain_invalid', `A project can have at most ${MAX_DOMAINS} allowed domains.`);
  return [...new Set(entries.map((entry) => formatRule(parseRule(entry))))];
}

/** Parses stored (already normalised) domains once, for repeated origin checks. */
export function compileDomains(domains: readonly string[]): DomainRule[] {
  return domains.map(parseRule);
}

/** Whether a browser `Origin` header value is allowed by one of the rules. */
export function isOriginAllowed(origin: string, rules: readonly DomainRule[]): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  // A real Origin is exactly scheme://host[:port]; anything else is forged or opaque ("null").
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin) return false;
  const scheme = url.protocol.slice(0, -1);
  return rules.some((rule) => {
    if (rule.scheme && rule.scheme !== scheme) return false;
    if ((rule.port ?? '') !== url.port) return false;
    return rule.wildcard ? url.hostname.endsWith(`.${rule.host}`) : url.hostname === rule.host;
  });
}
