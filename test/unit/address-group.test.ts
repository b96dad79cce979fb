import { addressGroup } from '../../src/infra/address-group';

/** The backstop limits count an address group, not an address: one IPv6 /64 is one subscriber's supply of addresses. */
describe('addressGroup', () => {
  it('when the address is IPv4, then the group is the address itself (/32)', () => {
    expect(addressGroup('203.0.113.7')).toBe('203.0.113.7');
    expect(addressGroup('203.0.113.8')).not.toBe(addressGroup('203.0.113.7'));
  });

  it('when the address is IPv4 mapped into IPv6, then it is grouped as the IPv4 address', () => {
    expect(addressGroup('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressGroup('::ffff:cb00:7107')).toBe('203.0.113.7');
  });

  it('when two IPv6 addresses share their first 64 bits, then they are one group, however they are written', () => {
    const g = addressGroup('2001:db8:1:2::a');
    expect(g).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe(g);
    expect(addressGroup('2001:DB8:1:2:0:0:0:1')).toBe(g);
    expect(addressGroup('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('when two IPv6 addresses differ in their first 64 bits, then they are different groups', () => {
    expect(addressGroup('2001:db8:1:3::a')).not.toBe(addressGroup('2001:db8:1:2::a'));
    expect(addressGroup('::1')).toBe('0:0:0:0::/64');
  });

  it('when the address is missing or not an address, then it falls in one "unknown" group rather than a group of its own text', () => {
    expect(addressGroup(undefined)).toBe('unknown');
    expect(addressGroup('')).toBe('unknown');
    expect(addressGroup('not-an-ip')).toBe('unknown');
    expect(addressGroup('2001:db8::1, 10.0.0.1')).toBe('unknown');
  });
});
