// The lazy request logger: lines are written as pino's own children would write them (bindings of
// every level of child, the later winning), and no child is made for a request that logs nothing.
import Fastify, { LogController } from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { requestLogger } from './request-log.ts';

function memoryLogger(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level }, { write: (s: string) => lines.push(JSON.parse(s)) });
  let children = 0;
  const child = log.child.bind(log);
  log.child = ((...args: Parameters<typeof child>) => {
    children++;
    return child(...args);
  }) as typeof log.child;
  return { log, lines, children: () => children };
}

describe('requestLogger', () => {
  it('makes no child for lines below the level, and one, with every binding, for a line at it', () => {
    const m = memoryLogger('warn');
    const req = requestLogger(m.log, { request_id: 'r1' }, {});
    const withTenant = req.child({ tenant_id: 'ten_1' });
    withTenant.info('not written');
    withTenant.debug({ x: 1 }, 'not written either');
    expect(m.children()).toBe(0);
    withTenant.warn({ code: 'late' }, 'written');
    withTenant.error('and this');
    expect(m.children()).toBe(1);
    expect(m.lines.map((l) => [l.msg, l.request_id, l.tenant_id, l.level])).toEqual([
      ['written', 'r1', 'ten_1', 40],
      ['and this', 'r1', 'ten_1', 50],
    ]);
    expect(m.lines[0]!.code).toBe('late');
    expect(withTenant.level).toBe('warn');
  });

  it('later bindings win, as with pino children', () => {
    const m = memoryLogger('info');
    requestLogger(m.log, { request_id: 'r1', where: 'outer' }, {}).child({ where: 'inner' }).info('x');
    expect(m.lines[0]).toMatchObject({ request_id: 'r1', where: 'inner', msg: 'x' });
  });

  it("a route's own log level is pino's child at once", () => {
    const m = memoryLogger('warn');
    const req = requestLogger(m.log, { request_id: 'r2' }, { level: 'debug' });
    req.debug('route debug');
    expect(m.children()).toBe(1);
    expect(m.lines[0]).toMatchObject({ request_id: 'r2', msg: 'route debug' });
  });

  it('serves as Fastify’s per-request logger', async () => {
    const m = memoryLogger('warn');
    const app = Fastify({
      loggerInstance: m.log,
      childLoggerFactory: requestLogger,
      logController: new LogController({ disableRequestLogging: true }),
      genReqId: () => 'req-42',
    });
    app.get('/quiet', async () => ({ ok: true }));
    app.get('/loud', async (req) => {
      req.log = req.log.child({ tenant_id: 'ten_9' });
      req.log.warn('something to see');
      return { ok: true };
    });
    await app.ready();
    const before = m.children();
    expect((await app.inject({ url: '/quiet' })).statusCode).toBe(200);
    expect(m.children()).toBe(before);
    expect((await app.inject({ url: '/loud' })).statusCode).toBe(200);
    expect(m.lines.find((l) => l.msg === 'something to see')).toMatchObject({ reqId: 'req-42', tenant_id: 'ten_9' });
    await app.close();
  });
});
