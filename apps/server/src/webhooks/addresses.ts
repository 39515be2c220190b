import net from 'node:net';
import { blockListOf, configuredRanges, isInRanges, parseIpRange } from '../security/ip-ranges.js';

// Where a webhook may not connect (SSRF defence): every address that is not a
// public unicast address, from the IANA IPv4 and IPv6 Special-Purpose Address
// Registries (RFC 6890 and its updates), unless the operator allows it
// (PARLEY_WEBHOOK_ALLOWED_RANGES). IPv6 forms that carry an IPv4 address
// (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are judged by that address, so
// `::ffff:127.0.0.1` is loopback like 127.0.0.1.

const BLOCKED: [what: string, ranges: string[]][] = [
  ['a loopback address', ['127.0.0.0/8', '::1/128']],
  ['a private address', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']],
  ['a carrier-grade NAT address', ['100.64.0.0/10']],
  ['a link-local address (where cloud metadata services answer)', ['169.254.0.0/16', 'fe80::/10']],
  ['the unspecified address ("this network")', ['0.0.0.0/8', '::/128']],
  ['the broadcast address', ['255.255.255.255/32']],
  ['a multicast address', ['224.0.0.0/4', 'ff00::/8']],
  ['a documentation address', ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32', '3fff::/20']],
  ['a benchmarking address', ['198.18.0.0/15', '2001:2::/48']],
  ['a unique local (private) address', ['fc00::/7']],
  ['a site-local address', ['fec0::/10']],
  // IETF protocol assignments (192.0.0.0/24, 2001::/23 with Teredo), the
  // retired 6to4 relay anycast, local-use NAT64, discard-only, SRv6 and the
  // future-use block 240.0.0.0/4.
  ['a reserved address', ['192.0.0.0/24', '192.88.99.0/24', '240.0.0.0/4', '2001::/23', '64:ff9b:1::/48', '100::/64', '5f00::/16']],
];

const CATEGORIES = BLOCKED.map(([what, ranges]) => ({ what, list: blockListOf(ranges.map((range) => parseIpRange(range)!)) }));

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part allowed), or null. */
function ipv6Groups(address: string): number[] | null {
  if (!net.isIPv6(address)) return null;
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted) {
    const [a, b, c, d] = dotted.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -dotted.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const part = (s: string) => (s === '' ? [] : s.split(':').map((group) => parseInt(group, 16)));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

const ipv4Of = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/** The IPv4 address an IPv6 address stands for (IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16), with the form's name. */
export function embeddedIpv4(address: string): { ipv4: string; form: string } | null {
  const g = ipv6Groups(address);
  if (!g) return null;
  const zeros = (from: number, to: number) => g.slice(from, to).every((group) => group === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return { ipv4: ipv4Of(g[6]!, g[7]!), form: 'IPv4-mapped IPv6' };
  // ::/128 and ::1 are themselves, not 0.0.0.0 and 0.0.0.1.
  if (zeros(0, 6) && !(g[6] === 0 && g[7]! <= 1)) return { ipv4: ipv4Of(g[6]!, g[7]!), form: 'IPv4-compatible IPv6' };
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return { ipv4: ipv4Of(g[6]!, g[7]!), form: 'NAT64' };
  if (g[0] === 0x2002) return { ipv4: ipv4Of(g[1]!, g[2]!), form: '6to4' };
  return null;
}

/** Decides which addresses webhooks may connect to. */
export class AddressPolicy {
  private readonly allowed: net.BlockList;

  /** `allowedRanges`: the operator's exceptions (IPs, CIDR ranges, `loopback`), already validated by config. */
  constructor(allowedRanges: readonly string[]) {
    this.allowed = configuredRanges(allowedRanges);
  }

  /**
   * What `address` is when a webhook may not connect to it ("a loopback
   * address", "a private address (IPv4-mapped IPv6)", …), or null when it may.
   * Anything that is not an IP address is refused.
   */
  refusal(address: string): string | null {
    const plain = address.split('%')[0]!; // an IPv6 zone id names an interface, not an address
    if (net.isIP(plain) === 0) return 'not an IP address';
    const embedded = embeddedIpv4(plain);
    if (isInRanges(this.allowed, plain) || (embedded && isInRanges(this.allowed, embedded.ipv4))) return null;
    if (embedded) {
      const inner = this.refusal(embedded.ipv4);
      return inner && `${inner} (${embedded.form})`;
    }
    return CATEGORIES.find(({ list }) => isInRanges(list, plain))?.what ?? null;
  }
}
