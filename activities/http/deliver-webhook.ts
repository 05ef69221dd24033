// One signed delivery attempt, reported as a plain record whatever happens, for the delivery activity to store
// and hand to classifyAttempt. Secrets go in, never out: the record holds no request header.
import type { DeliveryErrorCode } from '../../common/webhooks/attempt-outcome.ts';
import { sign } from '../../common/webhooks/standard-webhooks.ts';
import { SafePostError } from './errors.ts';
import type { PostResponse, SafePoster } from './safe-post.ts';

export type DeliveryAttempt =
  | ({ kind: 'response'; attemptedAt: number } & PostResponse)
  | { kind: 'error'; attemptedAt: number; durationMs: number; code: DeliveryErrorCode; message: string };

export type DeliveryRequest = {
  url: string;
  /** The message id: the same for every attempt of one message. */
  msgId: string;
  /** The serialised payload, sent byte for byte as signed. */
  body: string;
  /** Signing secrets in effect now (secretsInEffect). */
  secrets: readonly string[];
  /** The endpoint's custom headers. */
  headers?: Readonly<Record<string, string>>;
  /** Epoch ms of the attempt; the webhook-timestamp is taken from it. */
  now?: number;
  /** The keep-alive pool to send through (the endpoint's id), see PostRequest. */
  pool?: string;
};

export async function deliverWebhook(poster: SafePoster, request: DeliveryRequest): Promise<DeliveryAttempt> {
  const attemptedAt = request.now ?? Date.now();
  const signature = sign({
    msgId: request.msgId,
    timestamp: Math.floor(attemptedAt / 1000),
    body: request.body,
    secrets: request.secrets,
  });
  const started = performance.now();
  try {
    const response = await poster.post({
      url: request.url,
      headers: { ...request.headers, ...signature },
      body: request.body,
      ...(request.pool === undefined ? {} : { pool: request.pool }),
    });
    return { kind: 'response', attemptedAt, ...response };
  } catch (error) {
    // Anything else (a reserved custom header) is a bug to surface, not an attempt outcome to record.
    if (!(error instanceof SafePostError)) throw error;
    return {
      kind: 'error',
      attemptedAt,
      durationMs: Math.round(performance.now() - started),
      code: error.code,
      message: error.message.slice(0, 500),
    };
  }
}
