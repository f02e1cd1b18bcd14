// What webhook intake needs to know about the channel a platform posted to: its tenant and its
// (decrypted) credentials, to verify the signature. Looked up by (type, id) only: the URL is the
// only thing an inbound webhook carries, and a wrong type for an id is simply "no such channel".
import type { Sealer } from '../db/crypto.ts';
import type { Q } from './scope.ts';

export interface WebhookChannel {
  tenantId: string;
  credentials: Record<string, string>;
  baseUrl: string;
}

export async function findWebhookChannel(q: Q, sealer: Sealer, type: string, id: string): Promise<WebhookChannel | null> {
  const { rows } = await q.query<{ tenant_id: string; credentials_enc: string; base_url: string }>(
    `select tenant_id, credentials_enc, base_url from channels where id = $1 and type = $2`,
    [id, type],
  );
  if (!rows[0]) return null;
  return { tenantId: rows[0].tenant_id, credentials: sealer.open(rows[0].credentials_enc) as Record<string, string>, baseUrl: rows[0].base_url };
}
