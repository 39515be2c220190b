import { describe, expect, it } from 'vitest';
import { AddressPolicy, embeddedIpv4 } from './addresses.js';

// The addresses webhooks may not reach, from the IANA special-purpose
// registries, in every spelling an attacker might use.

const strict = new AddressPolicy([]);

describe('AddressPolicy without exceptions', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.255.254', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['0.0.0.0', 'the unspecified address ("this network")'],
    ['0.1.2.3', 'the unspecified address ("this network")'],
    ['::', 'the unspecified address ("this network")'],
    ['10.1.2.3', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['100.64.0.1', 'a carrier-grade NAT address'],
    ['169.254.169.254', 'a link-local address (where cloud metadata services answer)'],
    ['fe80::1', 'a link-local address (where cloud metadata services answer)'],
    ['fe80::1%eth0', 'a link-local address (where cloud metadata services answer)'],
    ['224.0.0.1', 'a multicast address'],
    ['ff02::1', 'a multicast address'],
    ['255.255.255.255', 'the broadcast address'],
    ['240.0.0.1', 'a reserved address'],
    ['192.0.0.8', 'a reserved address'],
    ['192.88.99.1', 'a reserved address'],
    ['2001::1', 'a reserved address'],
    ['2001:2::1', 'a benchmarking address'],
    ['64:ff9b:1::1', 'a reserved address'],
    ['100::1', 'a reserved address'],
    ['192.0.2.1', 'a documentation address'],
    ['198.51.100.7', 'a documentation address'],
    ['203.0.113.9', 'a documentation address'],
    ['2001:db8::1', 'a documentation address'],
    ['198.18.0.1', 'a benchmarking address'],
    ['fc00::1', 'a unique local (private) address'],
    ['fd12:3456::1', 'a unique local (private) address'],
    ['fec0::1', 'a site-local address'],
    ['::ffff:127.0.0.1', 'a loopback address (IPv4-mapped IPv6)'],
    ['::ffff:7f00:1', 'a loopback address (IPv4-mapped IPv6)'],
    ['::FFFF:10.0.0.1', 'a private address (IPv4-mapped IPv6)'],
    ['::127.0.0.1', 'a loopback address (IPv4-compatible IPv6)'],
    ['64:ff9b::a9fe:a9fe', 'a link-local address (where cloud metadata services answer) (NAT64)'],
    ['2002:7f00:1::', 'a loopback address (6to4)'],
    ['2002:c0a8:101::1', 'a private address (6to4)'],
    ['localhost', 'not an IP address'],
    ['', 'not an IP address'],
  ])('refuses %s: %s', (address, what) => {
    expect(strict.refusal(address)).toBe(what);
  });

  it.each(['8.8.8.8', '1.1.1.1', '11.0.0.1', '172.32.0.1', '100.128.0.1', '169.253.255.255', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])(
    'allows the public address %s',
    (address) => {
      expect(strict.refusal(address)).toBeNull();
    },
  );
});

describe('AddressPolicy with the operator\'s exceptions', () => {
  const relaxed = new AddressPolicy(['loopback', '10.0.0.0/8', 'fd00::/8']);

  it('allows what PARLEY_WEBHOOK_ALLOWED_RANGES names, in any spelling, and nothing more', () => {
    for (const address of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '10.2.3.4', 'fd00::5']) expect(relaxed.refusal(address), address).toBeNull();
    expect(relaxed.refusal('192.168.1.1')).toBe('a private address');
    expect(relaxed.refusal('169.254.169.254')).toMatch(/^a link-local address/);
    expect(relaxed.refusal('fc00::1')).toBe('a unique local (private) address');
  });
});

describe('embeddedIpv4', () => {
  it('reads the IPv4 address of the IPv6 forms that carry one, and nothing else', () => {
    expect(embeddedIpv4('::ffff:192.0.2.1')).toEqual({ ipv4: '192.0.2.1', form: 'IPv4-mapped IPv6' });
    expect(embeddedIpv4('64:ff9b::c000:201')).toEqual({ ipv4: '192.0.2.1', form: 'NAT64' });
    expect(embeddedIpv4('2002:c000:201::')).toEqual({ ipv4: '192.0.2.1', form: '6to4' });
    expect(embeddedIpv4('::1')).toBeNull();
    expect(embeddedIpv4('::')).toBeNull();
    expect(embeddedIpv4('2001:db8::1')).toBeNull();
    expect(embeddedIpv4('192.0.2.1')).toBeNull();
  });
});
