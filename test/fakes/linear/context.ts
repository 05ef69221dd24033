// What a resolver knows about the request it serves: who is calling, with which scopes.
import type { LinearStore, UserRecord } from './store.ts';

export interface Credential {
  kind: 'oauth' | 'api-key';
  userId: string;
  scopes: string[];
  /** The OAuth client that issued the token (absent for personal API keys). */
  clientId?: string;
}

export interface FakeContext {
  store: LinearStore;
  credential: Credential;
  viewer(): UserRecord;
  /** Fails the operation the way Linear does when the token lacks every one of `anyOf`. */
  requireScope(anyOf: string[]): void;
  /** Records a field the fake was asked for but does not model. */
  reportGap(field: string): void;
  /** The caller's request budget, as the rate-limit headers report it. */
  rateLimit(): { limit: number; remaining: number; resetAt: number; periodMs: number };
}

export class ScopeError extends Error {}
