// Which alert emails a user wants (users.alert_email): `each` alert as it is raised, a daily
// `digest`, or `off`. The mailing is the Alert agent's (src/engine/mail.ts).
import type { Q } from './scope.ts';

export const ALERT_EMAIL_CHOICES = ['each', 'digest', 'off'] as const;
export type AlertEmailChoice = (typeof ALERT_EMAIL_CHOICES)[number];

/** A user's choice; switching to the digest starts its day now (the first one covers from here). */
export async function setAlertEmail(tx: Q, tenantId: string, userId: string, choice: AlertEmailChoice): Promise<void> {
  await tx.query(
    `update users set alert_email = $3,
       digest_sent_at = case when $3 = 'digest' and alert_email <> 'digest' then now() else digest_sent_at end
     where tenant_id = $1 and id = $2`,
    [tenantId, userId, choice],
  );
}
