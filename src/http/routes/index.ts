// Every authenticated /api/v1 route file. Each is a small plugin over one resource.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../engine/context.ts';
import { itemRoutes } from './items.ts';

export async function apiRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await itemRoutes(app, ctx);
}
