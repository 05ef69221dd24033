// JSON Merge Patch (RFC 7396): how a PATCH changes a JSON object without restating it. A member set to null is
// removed, an object merges into the object it replaces member by member (recursively), and anything else —
// strings, numbers, arrays — replaces the target's value whole.

export type JsonObject = { [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The target with the patch applied; neither argument is modified. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}
