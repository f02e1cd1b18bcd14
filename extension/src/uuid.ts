// Name-based UUIDs (RFC 9562 version 5): the same job id always gives the same upload_session_id
// and temp_uuid, so a publish sent again after a reconnect is, to Vinted, the same upload and
// answers the item it already created instead of making a second one.

/** A fixed namespace for StockClerk's uploads (a random v4, chosen once). */
export const UPLOAD_NAMESPACE = '6f1d2c3a-8b4e-4f57-9a61-2d0c5e7b9f13';

function bytesOf(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}

export async function uuidV5(name: string, namespace = UPLOAD_NAMESPACE): Promise<string> {
  const input = new Uint8Array([...bytesOf(namespace), ...new TextEncoder().encode(name)]);
  const b = new Uint8Array(await crypto.subtle.digest('SHA-1', input)).slice(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The ids of one publish job's upload: the session, the item draft, and one per photo. */
export async function uploadIdsFor(jobId: string) {
  return {
    uploadSessionId: await uuidV5(`upload-session:${jobId}`),
    tempUuid: await uuidV5(`item:${jobId}`),
    photoUuid: (i: number) => uuidV5(`photo:${jobId}:${i}`),
  };
}
