// IP addresses and CIDR ranges as people type them (`203.0.113.7`,
// `10.0.0.0/8`, `2001:db8::/32`), judged by the rules of the server's
// parseIpRange (apps/server/src/security/ip-ranges.ts, Node's net.isIP), so a
// form can name a bad line before sending it. The server still checks.

const IPV4_OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${IPV4_OCTET}(\\.${IPV4_OCTET}){3}$`);
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function isIpv6(address: string): boolean {
  const halves = address.split('::');
  if (halves.length > 2) return false;
  const groupsOf = (half: string) => (half === '' ? [] : half.split(':'));
  const groups = halves.flatMap(groupsOf);
  // An IPv4 address may end it (::ffff:192.0.2.1), standing for two groups.
  const last = groups.at(-1) ?? '';
  const endsInIpv4 = IPV4.test(last);
  const hexGroups = endsInIpv4 ? groups.slice(0, -1) : groups;
  if (!hexGroups.every((group) => HEX_GROUP.test(group))) return false;
  const count = hexGroups.length + (endsInIpv4 ? 2 : 0);
  return halves.length === 2 ? count < 8 : count === 8;
}

/**
 * An IPv4 or IPv6 address, with an optional /prefix no longer than the
 * address (32 or 128 bits). The longest valid one has 49 characters, within
 * every server limit on such entries.
 */
export function isIpRange(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  if (extra !== undefined || (prefix !== undefined && !/^\d{1,3}$/.test(prefix))) return false;
  const bits = IPV4.test(address) ? 32 : isIpv6(address) ? 128 : 0;
  return bits > 0 && (prefix === undefined || Number(prefix) <= bits);
}
