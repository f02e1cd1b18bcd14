// Building blocks for a channel module's credentials and settings schemas (zod). A field's `title`
// is the label the dashboard's connect form shows; `writeOnly` marks a secret (typed in, never
// shown back). The JSON Schema GET /channel-types serves carries both.
import { z } from 'zod';
import { httpUrl, NUL_MESSAGE, noNul } from '../domain/text-fields.ts';

const credentialValue = z.string().min(1).max(20_000).refine(noNul, NUL_MESSAGE);

/** A credential shown back as "set" only; `.optional()` it where the platform can do without. */
export const secret = (label: string) => credentialValue.meta({ title: label, writeOnly: true });
/** A credential that is not a secret (an account or site id, a public key). */
export const credential = (label: string) => credentialValue.meta({ title: label });

/** An id or name on the platform's side (a location, brand, site, menu). */
export const platformId = z.string().trim().min(1).max(200).refine(noNul, NUL_MESSAGE);

/** Our location ids, as the sync settings name them. */
export const locationRef = z.string().regex(/^loc_[0-9a-f]{32}$/, 'must be a loc_ id');

/** An http(s) URL we will call (src/domain/text-fields.ts). */
export { httpUrl };

/** `request_timeout_ms`: every adapter bounds each call to the platform by it. */
export const requestTimeoutMs = (defaultMs: number) =>
  z.number().int().min(100).max(60_000).meta({ title: 'Request timeout (ms)', description: 'Longest one call to the platform may take' }).default(defaultMs);

/** `page_size`: rows per page where the platform lets the caller choose. */
export const pageSize = (defaultSize: number, max: number) =>
  z.number().int().min(1).max(max).meta({ title: 'Page size', description: 'Rows per page when reading the catalogue' }).default(defaultSize);
