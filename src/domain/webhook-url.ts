// Where a tenant may point an outbound webhook (SSRF): https anywhere public; plain http only to
// this machine (127.0.0.1 / localhost, for development). Private, link-local, loopback (other than
// the development exception), carrier-grade NAT, multicast and reserved addresses are refused, at
// subscription time for literal addresses and again at delivery time for every resolved address
// (a public name can be re-pointed at a private address later: DNS rebinding).
import { BlockList, isIP } from 'node:net';

// Two lists: a BlockList matches IPv4 addresses against IPv4-mapped IPv6 rules too.
const blocked4 = new BlockList();
const blocked6 = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked4.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['::ffff:0:0', 96], // IPv4-mapped in hex form (URLs normalise to it): refused outright
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked6.addSubnet(net, bits, 'ipv6');
}

const DEV_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for an address a webhook must never reach (private, loopback, link-local, reserved ...). */
export function isPrivateAddress(address: string): boolean {
  const v = isIP(address);
  if (v === 4) return blocked4.check(address, 'ipv4');
  if (v === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return blocked4.check(mapped[1]!, 'ipv4'); // IPv4-mapped: judged as IPv4
    return blocked6.check(address, 'ipv6');
  }
  return false;
}

/** The development exception: this machine, named exactly. */
export function isDevHost(hostname: string): boolean {
  return DEV_HOSTS.has(hostname.toLowerCase());
}

/** Why this URL may not receive webhooks, or null when it may. */
export function webhookUrlProblem(raw: string): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'not a URL';
  }
  if (u.username || u.password) return 'credentials in the URL are not allowed';
  const host = u.hostname.toLowerCase();
  if (isDevHost(host)) return u.protocol === 'http:' || u.protocol === 'https:' ? null : 'must be https (or http to 127.0.0.1 / localhost)';
  if (u.protocol !== 'https:') return 'must be https (plain http only to 127.0.0.1 or localhost, for development)';
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  if (isIP(bare) && isPrivateAddress(bare)) return `${bare} is a private or reserved address`;
  if (!isIP(bare) && (bare.endsWith('.localhost') || bare.endsWith('.local') || bare.endsWith('.internal') || !bare.includes('.'))) {
    return `${bare} is not a public host name`;
  }
  return null;
}
