import net from 'node:net';

// Address ranges as operators and site owners write them: an IP address or a
// CIDR range (`10.0.0.0/8`, `2001:db8::/32`). One parser for trusted proxies
// and blocked ranges.

export type IpRange = { address: string; bits: number; family: 'ipv4' | 'ipv6' };

/** The range `entry` names (a single address is its own /32 or /128), or null when it is not one. */
export function parseIpRange(entry: string): IpRange | null {
  const [address = '', bits, ...rest] = entry.trim().split('/');
  const version = net.isIP(address);
  if (version === 0 || rest.length > 0) return null;
  const max = version === 4 ? 32 : 128;
  if (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max)) return null;
  return { address: address.toLowerCase(), bits: bits === undefined ? max : Number(bits), family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A set of valid ranges to check addresses against. */
export function blockListOf(ranges: IpRange[]): net.BlockList {
  const list = new net.BlockList();
  for (const { address, bits, family } of ranges) list.addSubnet(address, bits, family);
  return list;
}

/**
 * The ranges an operator setting names (trusted proxies, webhook targets):
 * IPs, CIDR ranges, or `loopback` for 127.0.0.0/8 and ::1. Config has
 * validated every entry already.
 */
export function configuredRanges(entries: readonly string[]): net.BlockList {
  return blockListOf(entries.flatMap((entry) => (entry === 'loopback' ? ['127.0.0.0/8', '::1'] : [entry])).map((entry) => parseIpRange(entry)!));
}

/** Whether `address` lies in one of the ranges of `list`. */
export function isInRanges(list: net.BlockList, address: string): boolean {
  return list.check(address, net.isIPv4(address) ? 'ipv4' : 'ipv6');
}
