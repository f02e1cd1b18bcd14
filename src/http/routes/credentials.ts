// What the credential routes share: the token pair a session answers with, the rules for a
// chosen password, a mailed link's token, where a session was started from, and what a route
// needs to mail a link.
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import type { MailContext } from '../../mail/outbox.ts';

export const TokenPair = {
  access_token: z.string().meta({ description: 'A JWT for `Authorization: Bearer`, valid for `expires_in` seconds (15 minutes)' }),
  refresh_token: z.string().meta({ description: 'Opaque, single use: POST it to /auth/refresh for the next pair' }),
  expires_in: z.number().int().meta({ description: 'Seconds the access token is valid for' }),
  token_type: z.literal('Bearer'),
  token: z.string().meta({ description: 'Deprecated: the access token under its former name', deprecated: true }),
};

/** Every password a person chooses (sign-up, reset, invitation, change). */
export const NewPassword = z
  .string()
  .min(10, 'Use at least 10 characters')
  .max(200)
  .refine((p) => /[a-zA-Z]/.test(p) && /[^a-zA-Z]/.test(p), 'Mix letters with digits or symbols');

/** A secret from a mailed link. */
export const LinkToken = z.string().min(16).max(200);

/** Where a session was started from, for the user's list of sessions (not for any decision). */
export const origin = (req: { headers: Record<string, unknown>; ip: string }) => ({
  userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
  ip: req.ip,
});

/** Where merchants reach this StockClerk, for links (the API knows its own address once it listens). */
export const publicUrl = (ctx: AppContext): string => ctx.site.publicUrl ?? `http://127.0.0.1:${ctx.config.port}`;

/** The mail context of a running process. */
export const mailContext = (ctx: AppContext): MailContext => ({ sealer: ctx.sealer, publicUrl: publicUrl(ctx) });
