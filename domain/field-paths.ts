import { RequestError } from '../common/errors.ts';

/**
 * Domain errors name fields relative to the domain function's input ("assigneeId", "cursor"). A caller
 * that wraps that input in something larger, like an HTTP route's request body or query, renames them
 * so every error it returns names fields the same way ("body.assigneeId", "query.cursor").
 */
export async function nestFieldPaths<T>(prefix: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!(error instanceof RequestError) || !error.details) throw error;
    const details = error.details.map((d) => ({ ...d, path: `${prefix}.${d.path}` }));
    throw new RequestError(error.status, error.code, error.message, details);
  }
}
