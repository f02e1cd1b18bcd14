// The unhandled-rejection guard, in a process of its own (vitest traps rejections in its workers):
// a connection error graphile-worker leaves unhandled is survived; anything else still ends the
// process, as Node's default does.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const recovery = path.resolve('src/recovery.ts');

function runWithGuard(rejection: string) {
  const script = `
    import { surviveLostJobEnds } from ${JSON.stringify(recovery)};
    const warned = [];
    surviveLostJobEnds({ warn: (o, msg) => warned.push(msg) });
    Promise.reject(${rejection});
    setTimeout(() => { console.log('alive, warned ' + warned.length); process.exit(0); }, 200);
  `;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
}

describe('surviveLostJobEnds', () => {
  it('survives a connection error left unhandled, and says so once', () => {
    const r = runWithGuard(`Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })`);
    expect(r.stdout.trim()).toBe('alive, warned 1');
    expect(r.status).toBe(0);
  });

  it('still ends the process on any other unhandled rejection', () => {
    const r = runWithGuard(`new Error('a bug')`);
    expect(r.stdout).not.toContain('alive');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('a bug');
  });
});
