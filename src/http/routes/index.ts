// Every authenticated /api/v1 route file. Each is a small plugin over one resource.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../engine/context.ts';
import { agentRoutes } from './agents.ts';
import { apiKeyRoutes } from './api-keys.ts';
import { auditLogRoutes } from './audit-log.ts';
import { reportRoutes } from './reports.ts';
import { salesOrderRoutes } from './sales-orders.ts';
import { alertRoutes } from './alerts.ts';
import { channelRoutes } from './channels.ts';
import { dashboardRoutes } from './dashboard.ts';
import { invitationRoutes } from './invitations.ts';
import { itemRoutes } from './items.ts';
import { jobRoutes } from './jobs.ts';
import { listingRoutes } from './listings.ts';
import { locationRoutes } from './locations.ts';
import { stockRoutes } from './stock.ts';
import { syncEventRoutes } from './sync-events.ts';
import { tenantRoutes } from './tenant.ts';
import { purchaseOrderRoutes } from './purchase-orders.ts';
import { operatorRoutes } from './operators.ts';
import { transferRoutes } from './transfers.ts';
import { userRoutes } from './users.ts';
import { webhookEndpointRoutes } from './webhook-endpoints.ts';

export async function apiRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await itemRoutes(app, ctx);
  await locationRoutes(app, ctx);
  await stockRoutes(app, ctx);
  await channelRoutes(app, ctx);
  await listingRoutes(app, ctx);
  await syncEventRoutes(app, ctx);
  await alertRoutes(app, ctx);
  await agentRoutes(app, ctx);
  await tenantRoutes(app, ctx);
  await apiKeyRoutes(app, ctx);
  await userRoutes(app, ctx);
  await invitationRoutes(app, ctx);
  await operatorRoutes(app, ctx);
  await auditLogRoutes(app, ctx);
  await reportRoutes(app, ctx);
  await salesOrderRoutes(app, ctx);
  await transferRoutes(app, ctx);
  await purchaseOrderRoutes(app, ctx);
  await dashboardRoutes(app, ctx);
  await webhookEndpointRoutes(app, ctx);
  await jobRoutes(app, ctx);
}
