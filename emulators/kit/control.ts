// The /_control API: what a merchant or a customer does on the platform itself (open an account,
// point its webhooks somewhere, sell, edit stock), plus the knobs and counters. Tests, the demo
// and the benchmarks drive emulators through it.
import type { FastifyReply } from 'fastify';
import type { Emulator } from './emulator.ts';
import type { Knobs } from './knobs.ts';
import type { AccountInput, BaseAccount } from './spec.ts';

export function installControl<A extends BaseAccount>(emu: Emulator<A>): void {
  const app = emu.app;
  const find = (id: string, reply: FastifyReply): A | null => {
    const acc = emu.accounts.get(id);
    if (!acc) void reply.code(404).send({ error: `no account ${id}` });
    return acc ?? null;
  };
  app.get('/_control/knobs', async () => emu.knobs);
  app.post('/_control/knobs', async (req) => {
    emu.knobs = { ...emu.knobs, ...(req.body as Partial<Knobs>) };
    return emu.knobs;
  });
  app.get('/_control/stats', async () => emu.stats);
  // What the platform received (with the recordRequests knob on): a test compares it with what a client meant to send.
  app.get('/_control/requests', async () => ({ requests: emu.requests }));
  app.delete('/_control/requests', async () => {
    emu.requests.length = 0;
    return { ok: true };
  });
  app.post('/_control/accounts', async (req, reply) => {
    const acc = emu.addAccount(req.body as AccountInput);
    return reply.code(201).send({ id: acc.id, items: emu.spec.state(acc) });
  });
  app.post('/_control/accounts/:id/webhook', async (req, reply) => {
    const acc = find((req.params as { id: string }).id, reply);
    if (!acc) return reply;
    const b = req.body as { url?: string | null; secret?: string | null };
    if (b.url !== undefined) acc.webhookUrl = b.url;
    if (b.secret !== undefined) acc.webhookSecret = b.secret;
    return { ok: true };
  });
  app.get('/_control/accounts/:id/state', async (req, reply) => {
    const acc = find((req.params as { id: string }).id, reply);
    if (!acc) return reply;
    return { items: emu.spec.state(acc) };
  });
  app.post('/_control/accounts/:id/sale', async (req, reply) => {
    const acc = find((req.params as { id: string }).id, reply);
    if (!acc) return reply;
    const body = req.body as { externalId?: string; sku?: string; qty?: number };
    return emu.spec.sale(emu, acc, { ...body, qty: body.qty ?? 1 });
  });
  app.post('/_control/accounts/:id/set', async (req, reply) => {
    const acc = find((req.params as { id: string }).id, reply);
    if (!acc) return reply;
    const body = req.body as { externalId?: string; sku?: string; qty: number };
    return emu.spec.setLevel(emu, acc, body);
  });
}
