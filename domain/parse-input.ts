import type { z } from 'zod';
import { validationFailed, zodDetails } from '../common/errors.ts';

/**
 * Domain functions parse their own input, because not every caller is an HTTP route (Slack actions,
 * inbound mail and Linear sync call them too). A mismatch is the same 422 a route would give.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const details = zodDetails(result.error);
    throw validationFailed(`invalid input: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
  }
  return result.data;
}
