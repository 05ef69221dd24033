// PATCH /api/integrations/{id} takes the config as a JSON Merge Patch (RFC 7396). Forms edit the whole config, so
// this turns "what was stored" and "what the form holds now" into the patch between them: a key the form dropped
// becomes null (removed), nested objects become nested patches, anything else that changed is sent whole.

type JsonObject = { [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The merge patch that turns `before` into `after` (both plain JSON objects without null members). */
export function mergePatchBetween(before: JsonObject, after: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const key of Object.keys(before)) if (!(key in after) || after[key] === undefined) patch[key] = null;
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    const old = before[key];
    if (isObject(old) && isObject(value)) {
      const nested = mergePatchBetween(old, value);
      if (Object.keys(nested).length > 0) patch[key] = nested;
    } else if (!sameJson(old, value)) {
      patch[key] = value;
    }
  }
  return patch;
}
