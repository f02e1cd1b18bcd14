// What webhook intake needs to know about the channel a platform posted to: its tenant and its
// (decrypted) credentials, to verify the signature. Looked up by (type, id) only: the URL is the
// only thing an inbound webhook carries, and a wrong type for an id is simply "no such channel".
import type { Sealer } from '../db/crypto.ts';
import type { Db } from '../db/pool.ts';
import { tenantTx } from '../db/tenant-tx.ts';
import { raiseAlert } from './alerts.ts';
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

/**
 * The platform says our app was uninstalled from the merchant's account: the channel is marked
 * disconnected (pushes and polls stop, as after refused credentials), its tokens are now worthless
 * and stay sealed, and the channel_auth alert tells the merchant to reinstall or remove it.
 */
export async function markUninstalled(db: Db, tenantId: string, channelId: string, label: string): Promise<void> {
  await tenantTx(db, tenantId, async (tx) => {
    const { rows } = await tx.query<{ name: string }>(
      `update channels set status = 'disconnected', last_error = $3, updated_at = now() where tenant_id = $1 and id = $2 returning name`,
      [tenantId, channelId, `StockClerk was uninstalled on ${label}`],
    );
    if (!rows[0]) return;
    await raiseAlert(tx, tenantId, {
      type: 'channel_auth',
      subject: channelId,
      severity: 'critical',
      message: `${rows[0].name}: StockClerk was uninstalled on ${label}; syncing with it is stopped until it is installed again`,
      data: { channel_id: channelId },
    });
  });
}
