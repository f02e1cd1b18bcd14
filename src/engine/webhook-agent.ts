// The HTTP connection pool outbound webhooks are delivered over (src/engine/outbound-webhooks.ts). One per
// process, held by its job runtime (src/engine/job-runtime.ts) and closed with it.
import dns from 'node:dns';
import { Agent } from 'undici';
import { isDevHost, isPrivateAddress } from '../domain/webhook-url.ts';

// Resolved addresses are checked at connect time too: a public name re-pointed at a private address
// (DNS rebinding) is refused. Literal addresses never reach lookup; webhookUrlProblem judged them.
type LookupCb = (err: Error | null, address: string | dns.LookupAddress[], family?: number) => void;
function safeLookup(hostname: string, options: dns.LookupOptions, cb: LookupCb): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return cb(err, '');
    const list = addresses as dns.LookupAddress[];
    if (!isDevHost(hostname) && list.some((a) => isPrivateAddress(a.address))) {
      return cb(new Error(`${hostname} resolves to a private address; refused`), '');
    }
    if (options.all) return cb(null, list);
    cb(null, list[0]!.address, list[0]!.family);
  });
}

export function createWebhookAgent(): Agent {
  return new Agent({ keepAliveTimeout: 10_000, connections: 16, connect: { lookup: safeLookup as never } });
}
