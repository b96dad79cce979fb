import ipaddr from 'ipaddr.js';

/**
 * The group an address is counted in by the per-address limits: an IPv4 address on its own (/32), an IPv6
 * address by its /64 (one subscriber is handed a whole /64, so its addresses are an unlimited supply).
 * IPv4 mapped into IPv6 counts as the IPv4 address. Anything unparsable is one shared "unknown" group.
 */
export function addressGroup(address: string | undefined): string {
  if (!address || !ipaddr.isValid(address)) return 'unknown';
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  if (ip.kind() === 'ipv4') return ip.toString();
  return `${(ip as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16)).join(':')}::/64`;
}
