// The public landing page's API (no credential: what it shows, and the Enterprise enquiry form)
// and the operators' handling of enquiries (super admins only).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { ENQUIRY_STATUSES, listEnquiries, publicPricing, submitEnquiry, updateEnquiry } from '../../services/enquiries.ts';
import { throttleIp } from '../auth-throttle.ts';
import { parse } from '../errors.ts';
import { doc, ErrorBody, named, pageOf } from '../openapi.ts';
import { pageQuery } from '../paging.ts';
import { timestamp } from '../schemas.ts';
import { operatorWrite } from '../tx.ts';
import { pathId, stringCursor, text } from './common.ts';
import { mailContext } from './credentials.ts';

const TAG = 'enquiries';

// A name or company goes into a mail's subject and text: one line, no control characters.
const oneLine = (max: number) => text(1, max).refine((s) => !/[\r\n\t]/.test(s), 'must be one line');
const Enquiry = z.strictObject({
  name: oneLine(200),
  email: z.string().trim().email().max(254),
  company: oneLine(200),
  shops: z.number().int().min(1).max(100_000).nullable().optional().meta({ description: 'How many shops (channels) they expect to connect' }),
  message: text(1, 5_000),
  website: z.string().max(2_000).optional().meta({ description: 'Leave empty: the form hides this field from people, and only bots fill it' }),
});
const Accepted = z.strictObject({ id: z.string() });

const EnquiryView = named(
  z.strictObject({
    id: z.string(),
    name: z.string(),
    email: z.string(),
    company: z.string(),
    shops: z.number().int().nullable(),
    message: z.string(),
    status: z.enum(ENQUIRY_STATUSES),
    note: z.string().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  }),
  'Enquiry',
);
const ListQuery = z.strictObject({ ...pageQuery, status: z.enum(ENQUIRY_STATUSES).optional() });
const Patch = z
  .strictObject({ status: z.enum(ENQUIRY_STATUSES).optional(), note: text(0, 5_000).nullable().optional().meta({ description: 'null clears it' }) })
  .refine((p) => p.status !== undefined || p.note !== undefined, 'give status or note');
const Params = z.object({ id: z.string().max(100) });

const Pricing = z.strictObject({
  currency: z.string(),
  trial_days: z.number().int(),
  plans: z.array(
    z.strictObject({
      name: z.string(),
      label: z.string(),
      shops: z.number().int().nullable().meta({ description: 'Connected channels included; null: as many as agreed' }),
      monthly_pence: z.number().int().nullable().meta({ description: 'null: free (trial) or by enquiry' }),
      price: z.string().meta({ description: 'As shown to people: "£50 / month", "By enquiry"' }),
    }),
  ),
  platforms: z.array(z.strictObject({ label: z.string(), live: z.boolean().meta({ description: 'false: planned, not connectable yet' }) })),
});

/** The public routes: registered outside the authenticated scope (src/http/app.ts). */
export async function publicEnquiryRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/pricing',
    doc({
      summary: 'What the landing page shows: the plans with their prices, and the platforms StockClerk connects',
      tag: TAG,
      scope: 'none',
      responses: { 200: Pricing },
    }),
    async () => publicPricing(),
  );

  app.post(
    '/enquiries',
    doc({
      summary: 'Send an Enterprise enquiry (the landing page form); every operator is mailed it',
      description: `Limited to ${ctx.config.enquiryThrottle.perIp} per client address per hour (429 rate_limited with Retry-After).`,
      tag: TAG,
      scope: 'none',
      body: Enquiry,
      responses: { 202: Accepted },
    }),
    async (req, reply) => {
      // Every attempt spends a token, refused or not: a bot retrying bad input is slowed as well.
      await throttleIp(ctx.db, req, reply, 'enquiry', ctx.config.enquiryThrottle);
      const b = parse(Enquiry, req.body);
      const out = await submitEnquiry(ctx.db, mailContext(ctx), { ...b, shops: b.shops ?? null, website: b.website ?? '' });
      return reply.code(202).send(out);
    },
  );
}

/** The operators' side, behind authentication (src/http/routes/index.ts). */
export async function enquiryAdminRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/admin/enquiries',
    doc({
      summary: 'Enterprise enquiries, newest first (operators only)',
      tag: TAG,
      scope: 'operator',
      query: ListQuery,
      responses: { 200: pageOf(EnquiryView) },
    }),
    async (req) => {
      const q = parse(ListQuery, req.query);
      return listEnquiries(ctx.db, { after: stringCursor(q.cursor), limit: q.limit, status: q.status });
    },
  );

  app.patch(
    '/admin/enquiries/:id',
    doc({
      summary: 'Move an enquiry along or note what happened (operators only)',
      tag: TAG,
      scope: 'operator',
      params: Params,
      body: Patch,
      responses: { 200: EnquiryView, 404: ErrorBody },
    }),
    async (req) => {
      const id = pathId(req.params, 'enq', 'Enquiry');
      const b = parse(Patch, req.body);
      return operatorWrite(ctx, req, 200, (tx, scope) => updateEnquiry(tx, scope, id, b));
    },
  );
}
