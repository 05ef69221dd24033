import type { z } from 'zod';
import { type ErrorDetail, validationFailed } from './errors.ts';

/** One detail per bad field; an unknown field is named by its own path (body.severity), not its parent's. */
export function zodDetails(error: z.ZodError): ErrorDetail[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ path: [...issue.path, key].join('.'), message: 'unknown field' }));
    return [{ path: issue.path.length ? issue.path.join('.') : '(root)', message: issue.message }];
  });
}

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
