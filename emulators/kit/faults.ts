// Authentication, the platform's rate limit and the fault knobs, in front of every platform API
// call (the /_control API is exempt).
import type { FastifyRequest } from 'fastify';
import type { Emulator } from './emulator.ts';
import { pickFault } from './knobs.ts';
import { sleep } from './http.ts';
import type { BaseAccount } from './spec.ts';

type Marked<A> = FastifyRequest & { emuAccount?: A; loseResponse?: boolean };

export function installFaults<A extends BaseAccount>(emu: Emulator<A>): void {
  const { app, spec } = emu;
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/_control')) return;
    emu.stats.calls++;
    const acc = spec.authenticate(req, emu.accounts);
    if (!acc) return spec.unauthorized(reply);
    (req as Marked<A>).emuAccount = acc;
    if (emu.knobs.latencyMs > 0) await sleep(emu.knobs.latencyMs);
    if (emu.knobs.enforceRateLimit) {
      const wait = acc.bucket.take();
      if (wait > 0) {
        emu.stats.throttled++;
        return spec.throttled(reply, Math.max(1, Math.ceil(wait / 1000)));
      }
    }
    const fault = pickFault(emu.knobs);
    if (fault === 'none') return;
    emu.stats.faults++;
    if (fault === 'error') return spec.serverError(reply);
    if (fault === 'throttle') return spec.throttled(reply, 1);
    if (fault === 'hang') {
      await sleep(emu.knobs.timeoutHangMs);
      req.raw.socket.destroy();
      return reply;
    }
    (req as Marked<A>).loseResponse = true;
  });
  // "Applied, but the answer never came": the write happened, the client sees a timeout.
  app.addHook('onSend', async (req, _reply, payload) => {
    if ((req as Marked<A>).loseResponse) {
      await sleep(emu.knobs.timeoutHangMs);
      req.raw.socket.destroy();
    }
    return payload;
  });
}

/** The account a platform API call authenticated as (set by the onRequest hook above). */
export function accountOf<A>(req: FastifyRequest): A {
  return (req as Marked<A>).emuAccount as A;
}
