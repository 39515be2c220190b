import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { clientIpOf, ipRateKey } from './client-ip.js';
import { configuredRanges } from './ip-ranges.js';

const proxies = configuredRanges(['10.0.0.0/8', 'loopback', 'fd00::/8']);
const none = configuredRanges([]);
const xff = (value: string) => ({ 'x-forwarded-for': value });

describe('the client address', () => {
  it('is the socket peer when no proxy is trusted, whatever the headers say', () => {
    expect(clientIpOf('203.0.113.9', xff('1.2.3.4'), none, 'x-forwarded-for')).toBe('203.0.113.9');
    expect(clientIpOf('127.0.0.1', { forwarded: 'for=1.2.3.4' }, none, 'forwarded')).toBe('127.0.0.1');
  });

  it('ignores X-Forwarded-For sent straight by a client that is not a trusted proxy', () => {
    expect(clientIpOf('203.0.113.9', xff('10.0.0.1, 127.0.0.1'), proxies, 'x-forwarded-for')).toBe('203.0.113.9');
  });

  it('takes the first untrusted hop from the right behind trusted proxies', () => {
    // The client prepended a lie; the proxy appended the real peer.
    expect(clientIpOf('10.1.1.1', xff('6.6.6.6, 198.51.100.7'), proxies, 'x-forwarded-for')).toBe('198.51.100.7');
    expect(clientIpOf('127.0.0.1', xff('198.51.100.7, 10.2.2.2'), proxies, 'x-forwarded-for')).toBe('198.51.100.7');
    expect(clientIpOf('10.1.1.1', xff('2001:db8::5'), proxies, 'x-forwarded-for')).toBe('2001:db8::5');
  });

  it('stops at the last proxy when a hop is garbled or missing', () => {
    expect(clientIpOf('10.1.1.1', xff('6.6.6.6, not-an-ip'), proxies, 'x-forwarded-for')).toBe('10.1.1.1');
    expect(clientIpOf('10.1.1.1', {}, proxies, 'x-forwarded-for')).toBe('10.1.1.1');
    expect(clientIpOf('10.1.1.1', xff(''), proxies, 'x-forwarded-for')).toBe('10.1.1.1');
  });

  it('reads only the configured header, so a client cannot add the other one', () => {
    expect(clientIpOf('10.1.1.1', { forwarded: 'for=6.6.6.6', 'x-forwarded-for': '198.51.100.7' }, proxies, 'x-forwarded-for')).toBe('198.51.100.7');
    expect(clientIpOf('10.1.1.1', { forwarded: 'for=198.51.100.7', 'x-forwarded-for': '6.6.6.6' }, proxies, 'forwarded')).toBe('198.51.100.7');
  });

  it('parses RFC 7239 nodes: quoted IPv6 with port, IPv4 with port, and refuses unknown or obfuscated ones', () => {
    expect(clientIpOf('10.1.1.1', { forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https' }, proxies, 'forwarded')).toBe('2001:db8:cafe::17');
    expect(clientIpOf('10.1.1.1', { forwarded: 'for=192.0.2.43:8080, for=10.9.9.9' }, proxies, 'forwarded')).toBe('192.0.2.43');
    expect(clientIpOf('10.1.1.1', { forwarded: 'for=unknown' }, proxies, 'forwarded')).toBe('10.1.1.1');
    expect(clientIpOf('10.1.1.1', { forwarded: 'for=_hidden' }, proxies, 'forwarded')).toBe('10.1.1.1');
  });

  it('gives an IPv4-mapped IPv6 peer as IPv4', () => {
    expect(clientIpOf('::ffff:203.0.113.9', {}, none, 'x-forwarded-for')).toBe('203.0.113.9');
    expect(clientIpOf('::ffff:127.0.0.1', xff('198.51.100.7'), proxies, 'x-forwarded-for')).toBe('198.51.100.7');
  });
});

describe('the rate-limit key of an address', () => {
  it('is the address for IPv4 and the /64 for IPv6, in one spelling', () => {
    expect(ipRateKey('203.0.113.9')).toBe('203.0.113.9');
    expect(ipRateKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(ipRateKey('2001:0DB8:0001:0002::ffff')).toBe('2001:db8:1:2::/64');
    expect(ipRateKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(ipRateKey('::1')).toBe('0:0:0:0::/64');
    expect(ipRateKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });
});

describe('PARLEY_TRUSTED_PROXIES', () => {
  it('accepts addresses, ranges and loopback, and names each bad entry', () => {
    expect(loadConfig({ PARLEY_TRUSTED_PROXIES: '10.0.0.0/8, ::1, loopback' }).trustedProxies).toEqual(['10.0.0.0/8', '::1', 'loopback']);
    expect(() => loadConfig({ PARLEY_TRUSTED_PROXIES: '10.0.0.0/33,proxy.local,*' })).toThrow(/"10.0.0.0\/33"[\s\S]*"proxy.local"[\s\S]*"\*"/);
  });
});
