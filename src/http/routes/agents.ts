// The four agents as the dashboard shows them: per agent, the caller's jobs waiting, running and
// failing (sampled from the job queue) and when it last did something; plus the Guardian's run
// history and a "run the Guardian now" button.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { AGENT_NAMES, agentStatus, listGuardianRuns, runGuardianNow } from '../../services/agents.ts';
import { parse } from '../errors.ts';
import { pageQuery } from '../paging.ts';
import { doc, pageOf } from '../openapi.ts';
import { GuardianRun, timestamp } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { write } from '../tx.ts';
import { idRef, numberCursor } from './common.ts';

const TAG = 'agents';
const Agents = z.strictObject({
  agents: z.array(
    z.strictObject({
      name: z.enum(AGENT_NAMES),
      state: z.enum(['idle', 'active', 'error']),
      queue_depth: z.number().int(),
      running: z.number().int(),
      failing: z.number().int(),
      last_activity_at: timestamp.nullable(),
    }),
  ),
});

const RunsQuery = z.strictObject({ ...pageQuery, channel_id: idRef('ch').optional() });

export async function agentRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/agents', doc({ summary: 'The four agents: queue depth and last activity', tag: TAG, responses: { 200: Agents } }), async (req) => {
    const scope = scopeOf(req);
    return { agents: await agentStatus(ctx.db, scope, ctx.jobs.queues.forTenant(scope.tenantId)) };
  });

  app.post(
    '/guardian/runs',
    doc({ summary: 'Run the Guardian now', tag: TAG, responses: { 202: z.strictObject({ queued: z.literal(true), run_at: timestamp }) } }),
    async (req, reply) => reply.code(202).send(await write(ctx, req, 202, (tx, scope) => runGuardianNow(tx, scope))),
  );

  app.get(
    '/guardian/runs',
    doc({ summary: 'Guardian runs, newest first', tag: TAG, query: RunsQuery, responses: { 200: pageOf(GuardianRun) } }),
    async (req) => {
      const q = parse(RunsQuery, req.query);
      return listGuardianRuns(ctx.db, scopeOf(req), { channelId: q.channel_id }, { after: numberCursor(q.cursor), limit: q.limit });
    },
  );
}
