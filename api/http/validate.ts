import type { z } from 'zod';
import { validationFailed, zodDetails } from '../../common/errors.ts';

/** Parses one part of a request (body, query, params); a mismatch is a 422 naming every bad field. */
export function parsePart<S extends z.ZodType>(schema: S, value: unknown, part: string): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) {
    const details = zodDetails(result.error).map((d) => ({ ...d, path: `${part}.${d.path}` }));
    throw validationFailed(
      `invalid request ${part}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`,
      details,
    );
  }
  return result.data;
}
