// Webhooks authenticated by an unguessable URL instead of a signature, for platforms that sign
// nothing (a module sets `webhook.urlSecret`). Each such channel gets a random secret when it is
// connected, kept in its sealed credentials blob under URL_SECRET_KEY (outside the module's own
// credential fields, so forms and views never list it); the platform is given
// /webhooks/{type}/{id}/{secret}, and intake refuses a post that does not carry it.
import { randomBytes } from 'node:crypto';
import type { ChannelModule } from './contract.ts';
import { safeEqual } from './signing.ts';

export const URL_SECRET_KEY = 'webhook_url_secret';

/** 32 random bytes, URL-safe: nothing to guess. */
export function newUrlSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * `credentials` (a module's fields, already checked) with the channel's URL secret added where its
 * module wants one: the one it had (`previous`), else a new one. Unchanged for other modules.
 */
export function withUrlSecret(
  mod: Pick<ChannelModule, 'webhook'> | null,
  credentials: Record<string, string>,
  previous?: Record<string, unknown>,
): Record<string, string> {
  if (!mod?.webhook.urlSecret) return credentials;
  const kept = previous?.[URL_SECRET_KEY];
  return { ...credentials, [URL_SECRET_KEY]: typeof kept === 'string' && kept !== '' ? kept : newUrlSecret() };
}

/** The credentials as a module's schema knows them: without the URL secret (it is not the merchant's to send). */
export function withoutUrlSecret<T extends Record<string, unknown>>(credentials: T): T {
  const { [URL_SECRET_KEY]: _dropped, ...rest } = credentials;
  return rest as T;
}

/** The path a platform posts this channel's webhooks to. */
export function webhookPath(type: string, channelId: string, credentials: Record<string, unknown>): string {
  const secret = credentials[URL_SECRET_KEY];
  return `/webhooks/${type}/${channelId}${typeof secret === 'string' && secret !== '' ? `/${secret}` : ''}`;
}

/** The secret a post carried against the channel's; a channel without one accepts nothing. */
export function urlSecretMatches(credentials: Record<string, string>, given: string | undefined): boolean {
  const secret = credentials[URL_SECRET_KEY];
  return !!secret && given !== undefined && safeEqual(given, secret);
}
