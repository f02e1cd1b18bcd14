// Field rules every layer that reads outside input shares: no NUL characters (PostgreSQL text
// refuses them: a 500 instead of a 400) and what counts as a URL we will call.
import { z } from 'zod';

export const noNul = (s: string): boolean => !s.includes('\u0000');
export const NUL_MESSAGE = 'must not contain NUL characters';

/** `http(s)://host[:port][/path]`, no credentials in the URL. */
export const httpUrl = z
  .string()
  .trim()
  .min(1)
  .max(500)
  .refine((s) => {
    if (!noNul(s)) return false;
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password && u.hostname.length > 0;
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');
