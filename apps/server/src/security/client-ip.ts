import net from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isInRanges } from './ip-ranges.js';

// The client's address for limits, blocks and logs. Headers naming a client
// are believed only when the socket peer is a configured proxy, and then only
// as far back as the chain passes through configured proxies: anyone else can
// write any X-Forwarded-For they like.

declare module 'fastify' {
  interface FastifyRequest {
    /** The client's IP address (IPv4-mapped IPv6 given as IPv4). */
    clientIp: string;
  }
}

export type ForwardedHeader = 'x-forwarded-for' | 'forwarded';

/** `::ffff:192.0.2.1` is 192.0.2.1: one client, one key. */
export function plainIp(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** One `for=` node of RFC 7239 as an address: quotes, brackets and ports removed; null for `unknown` or obfuscated ids. */
function forwardedNode(value: string): string | null {
  let node = value.trim().replace(/^"(.*)"$/, '$1');
  if (node.startsWith('[')) node = node.slice(1, node.indexOf(']'));
  else if (net.isIPv4(node.split(':')[0] ?? '')) node = node.split(':')[0]!;
  return net.isIP(node) ? plainIp(node) : null;
}

/** The hops a header lists, client first. */
function listedHops(headers: FastifyRequest['headers'], header: ForwardedHeader): (string | null)[] {
  const raw = headers[header];
  if (raw === undefined) return [];
  const text = Array.isArray(raw) ? raw.join(',') : raw;
  if (header === 'x-forwarded-for') {
    return text.split(',').map((entry) => {
      const address = entry.trim();
      return net.isIP(address) ? plainIp(address) : null;
    });
  }
  return text.split(',').map((element) => {
    const pair = element.split(';').map((p) => p.trim()).find((p) => p.toLowerCase().startsWith('for='));
    return pair ? forwardedNode(pair.slice(4)) : null;
  });
}

/**
 * Walks from the socket peer towards the client while each hop is a trusted
 * proxy. A hop that is missing or not an address stops the walk at the last
 * trusted proxy, so a garbled header never yields an address of the sender's choosing.
 */
export function clientIpOf(socketAddress: string, headers: FastifyRequest['headers'], proxies: net.BlockList, header: ForwardedHeader): string {
  let address = plainIp(socketAddress);
  const hops = listedHops(headers, header);
  while (isInRanges(proxies, address)) {
    const next = hops.pop();
    if (next === undefined || next === null) return address;
    address = next;
  }
  return address;
}

/**
 * The key rate limits count an address under: IPv4 as is, IPv6 by its /64,
 * since one subscriber usually holds a whole /64 and could rotate through it.
 */
export function ipRateKey(ip: string): string {
  if (!net.isIPv6(ip)) return ip;
  return `${expandIpv6(ip).slice(0, 4).join(':')}::/64`;
}

function expandIpv6(ip: string): string[] {
  // An embedded IPv4 tail (64:ff9b::192.0.2.1) is two groups.
  const address = ip.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_all, a, b, c, d) =>
    [((+a << 8) | +b).toString(16), ((+c << 8) | +d).toString(16)].join(':'));
  const [head = '', tail] = address.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((group) => group.replace(/^0+(?=.)/, '').toLowerCase());
}

/** Decorates every request with `clientIp`. */
export function registerClientIp(app: FastifyInstance, proxies: net.BlockList, header: ForwardedHeader): void {
  app.decorateRequest('clientIp', '');
  app.addHook('onRequest', async (request) => {
    request.clientIp = clientIpOf(request.socket.remoteAddress ?? '', request.headers, proxies, header);
  });
}
