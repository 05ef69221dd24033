// The API names the field each validation error is about ("body.eventTypes.0"); forms show each one beside
// its own field and list the rest (or a plain message) above the buttons.
import { ApiError, describeError, type ErrorDetail } from '../../api.ts';

export type FormErrors = { fields: Record<string, string>; message: string | null; details: ErrorDetail[] };

export const noFormErrors: FormErrors = { fields: {}, message: null, details: [] };

/** `fields` are the form's field names; a detail about "body.eventTypes.2" belongs to "eventTypes". */
export function formErrorsFrom(error: unknown, fields: readonly string[]): FormErrors {
  if (!(error instanceof ApiError) || error.details.length === 0) {
    return { fields: {}, message: describeError(error), details: [] };
  }
  const byField: Record<string, string> = {};
  const rest: ErrorDetail[] = [];
  for (const detail of error.details) {
    const field = detail.path.replace(/^(body|query|params)\./, '').split('.')[0] ?? '';
    if (fields.includes(field))
      byField[field] = byField[field] ? `${byField[field]}; ${detail.message}` : detail.message;
    else rest.push(detail);
  }
  const message = rest.length > 0 || Object.keys(byField).length === 0 ? error.message : null;
  return { fields: byField, message, details: rest };
}
