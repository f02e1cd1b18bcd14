// A channel that refused our credentials (a revoked grant, a refresh token the platform no longer
// takes): it is marked disconnected, which stops pushes and polls until the merchant reconnects it
// (new credentials + a passing connection test, or consent again), and the channel_auth alert is
// raised. One place for it: a push, a poll and the guardian can each be the first to find out.
import type { ChannelError } from '../channels/contract.ts';
import type { Tx } from '../db/pool.ts';
import { raiseAlert } from '../services/alerts.ts';
import type { LiveChannel } from './channel-runtime.ts';

export async function disconnectForAuth(tx: Tx, live: LiveChannel, err: ChannelError, doing: 'syncing' | 'polling' | 'checking'): Promise<void> {
  const { tenant_id: tenantId, id, name } = live.row;
  await tx.query(`update channels set status = 'disconnected', last_error = $3, updated_at = now() where tenant_id = $1 and id = $2`, [
    tenantId,
    id,
    err.message,
  ]);
  await raiseAlert(tx, tenantId, {
    type: 'channel_auth',
    subject: id,
    severity: 'critical',
    message: `${name} refused our credentials; ${doing === 'syncing' ? 'syncing to it' : 'syncing with it'} is stopped until it is reconnected`,
    data: { channel_id: id },
  });
}
