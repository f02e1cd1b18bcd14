// Throttles for the endpoints that take a password (login and sign-up; password reset and
// invitation acceptance when they come): each runs argon2 (~50 ms of CPU on a 2-core machine),
// and each is where passwords get guessed. Two token buckets, in Postgres so every API process
// shares them (src/db/rate-buckets.ts):
// - per client IP: every attempt spends a token (`attemptsPerIp` per window);
// - per email: a failed login spends one (`failuresPerEmail` per window); while none is left, every
//   login of that email is refused, a right password too, until the bucket refills. The email is
//   hashed in the bucket's key: the table never holds an address.
// - per email, mails asked for (password resets): `mailsPerEmail` per window.
// The client IP is the socket's unless TRUST_PROXY names the proxies to believe (src/config.ts).
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthThrottle as Limits } from '../config.ts';
import type { Db } from '../db/pool.ts';
import { takeToken } from '../db/rate-buckets.ts';
import { ApiError } from './errors.ts';

/** An address as bucket keys name it: hashed, so the table never holds one. */
const emailHash = (email: string) => createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
const emailKey = (email: string) => `auth:email:${emailHash(email)}`;

export class AuthThrottle {
  private readonly db: Pick<Db, 'query'>;
  private readonly limits: Limits;
  constructor(db: Pick<Db, 'query'>, limits: Limits) {
    this.db = db;
    this.limits = limits;
  }

  /** One attempt from this client: 429 with Retry-After once its IP has spent the window's attempts. */
  async attempt(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const n = this.limits.attemptsPerIp;
    const { tokens, granted } = await takeToken(this.db, `auth:ip:${req.ip}`, n, n / this.limits.windowS);
    if (!granted) this.refuse(reply, tokens, n, 'Too many attempts from your address; wait and try again');
  }

  /** Before a login: 429 while the email's failures have emptied its bucket. */
  async checkEmail(email: string, reply: FastifyReply): Promise<void> {
    const n = this.limits.failuresPerEmail;
    const { tokens, granted } = await takeToken(this.db, emailKey(email), n, n / this.limits.windowS, 0);
    if (!granted) this.refuse(reply, tokens, n, 'Too many failed logins for this email; wait and try again, or reset the password');
  }

  /** Before mailing an address a link it asked for (a reset): 429 once the window's mails to it are spent, so nobody floods an inbox. */
  async mailTo(email: string, reply: FastifyReply): Promise<void> {
    const n = this.limits.mailsPerEmail;
    const { tokens, granted } = await takeToken(this.db, `auth:mail:${emailHash(email)}`, n, n / this.limits.windowS);
    if (!granted) this.refuse(reply, tokens, n, 'Too many mails asked for this address; wait and try again');
  }

  /** After a failed login: spends one of the email's tokens. */
  async failed(email: string): Promise<void> {
    const n = this.limits.failuresPerEmail;
    await takeToken(this.db, emailKey(email), n, n / this.limits.windowS);
  }

  private refuse(reply: FastifyReply, tokens: number, burst: number, message: string): never {
    refuse(reply, tokens, burst / this.limits.windowS, 'too_many_attempts', message);
  }
}

function refuse(reply: FastifyReply, tokens: number, perSecond: number, code: string, message: string): never {
  const retryAfterS = Math.max(1, Math.ceil((1 - tokens) / perSecond));
  reply.header('retry-after', String(retryAfterS));
  throw new ApiError(429, code, message, { retry_after_s: retryAfterS });
}

/**
 * The same bucket for another public form (the enquiry form): `burst` requests per client IP per
 * `windowS`, then 429 rate_limited with Retry-After. `name` keeps each form's buckets apart.
 */
export async function throttleIp(
  db: Pick<Db, 'query'>,
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  limit: { perIp: number; windowS: number },
): Promise<void> {
  const perSecond = limit.perIp / limit.windowS;
  const { tokens, granted } = await takeToken(db, `${name}:ip:${req.ip}`, limit.perIp, perSecond);
  if (!granted) refuse(reply, tokens, perSecond, 'rate_limited', 'Too many requests from your address; wait and try again');
}
