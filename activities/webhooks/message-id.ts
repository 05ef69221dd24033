// Message ids: `msg_` + 26 Crockford base32 characters (48-bit time, 80 random bits, like a ULID), so ids sort
// roughly by creation and can never contain the "." that Standard Webhooks forbids in a webhook-id.
import { randomBytes } from 'node:crypto';

const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newMessageId(now = Date.now()): string {
  let time = '';
  for (let t = now, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = alphabet[t % 32] + time;
  let random = '';
  for (const byte of randomBytes(16)) random += alphabet[byte % 32];
  return `msg_${time}${random}`;
}
