// Adding or editing any integration with its config and credentials as JSON. The API validates the config
// against the type's schema; its per-field errors are listed beside the form.
import { type FormEvent, useState } from 'react';
import {
  ApiError,
  createIntegration,
  describeError,
  type ErrorDetail,
  type IntegrationChanges,
  updateIntegration,
} from '../../api.ts';
import { mergePatchBetween } from '../../merge-patch.ts';
import { ErrorNotice, FieldError } from '../Notices.tsx';
import { parseJsonObject } from './jsonField.ts';
import type { IntegrationSetupProps } from './setupComponents.ts';

type FieldErrors = { name?: string; config?: string; credentials?: string };

export function GenericIntegrationForm({ integrationType, integration, onSaved, onCancel }: IntegrationSetupProps) {
  const [name, setName] = useState(integration?.name ?? '');
  const [isActive, setIsActive] = useState(integration?.isActive ?? true);
  const [configText, setConfigText] = useState(JSON.stringify(integration?.config ?? {}, null, 2));
  const [credentialsText, setCredentialsText] = useState('');
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [apiError, setApiError] = useState<{ message: string; details: ErrorDetail[] } | null>(null);
  const [saving, setSaving] = useState(false);
  const idPrefix = `integration-${integration?.id ?? 'new'}`;

  async function handleSubmit(event: FormEvent) {
    event.preventDefault();
    setApiError(null);
    const errors: FieldErrors = {};
    if (!name.trim()) errors.name = 'Give the integration a name.';
    const config = parseJsonObject(configText, 'Config');
    if (!config.ok) errors.config = config.message;
    // Empty credentials mean "none" for a new integration and "keep the stored ones" for an existing one.
    const credentials = credentialsText.trim() ? parseJsonObject(credentialsText, 'Credentials') : null;
    if (credentials && !credentials.ok) errors.credentials = credentials.message;
    setFieldErrors(errors);
    if (Object.keys(errors).length > 0 || !config.ok || (credentials && !credentials.ok)) return;

    setSaving(true);
    try {
      // The API merges the config (RFC 7396): send what the JSON edit changed, keys removed in it as null.
      const changes: IntegrationChanges = {
        name: name.trim(),
        isActive,
        config: integration ? mergePatchBetween(integration.config, config.value) : config.value,
      };
      if (credentials) changes.credentials = credentials.value;
      const saved = integration
        ? await updateIntegration(integration.id, changes)
        : await createIntegration({
            integrationType,
            name: name.trim(),
            isActive,
            config: config.value,
            ...(credentials ? { credentials: credentials.value } : {}),
          });
      onSaved(saved);
    } catch (e) {
      setApiError({ message: describeError(e), details: e instanceof ApiError ? e.details : [] });
    } finally {
      setSaving(false);
    }
  }

  return (
    <form className="integration-form" onSubmit={(e) => void handleSubmit(e)} noValidate>
      <div className="form-fields">
        <div className="field">
          <label htmlFor={`${idPrefix}-name`}>Name</label>
          <input
            id={`${idPrefix}-name`}
            value={name}
            onChange={(e) => setName(e.target.value)}
            aria-invalid={fieldErrors.name ? true : undefined}
            aria-describedby={fieldErrors.name ? `${idPrefix}-name-error` : undefined}
          />
          <FieldError id={`${idPrefix}-name-error`} message={fieldErrors.name} />
        </div>
        <div className="field field-checkbox">
          <input
            id={`${idPrefix}-active`}
            type="checkbox"
            checked={isActive}
            onChange={(e) => setIsActive(e.target.checked)}
          />
          <label htmlFor={`${idPrefix}-active`}>Active</label>
        </div>
        <div className="field">
          <label htmlFor={`${idPrefix}-config`}>Config (JSON)</label>
          <textarea
            id={`${idPrefix}-config`}
            className="code"
            rows={8}
            spellCheck={false}
            value={configText}
            onChange={(e) => setConfigText(e.target.value)}
            aria-invalid={fieldErrors.config ? true : undefined}
            aria-describedby={fieldErrors.config ? `${idPrefix}-config-error` : undefined}
          />
          <FieldError id={`${idPrefix}-config-error`} message={fieldErrors.config} />
        </div>
        <div className="field">
          <label htmlFor={`${idPrefix}-credentials`}>Credentials (JSON)</label>
          <textarea
            id={`${idPrefix}-credentials`}
            className="code"
            rows={4}
            spellCheck={false}
            placeholder={integration ? 'Leave empty to keep the stored credentials' : '{"token": "…"}'}
            value={credentialsText}
            onChange={(e) => setCredentialsText(e.target.value)}
            aria-invalid={fieldErrors.credentials ? true : undefined}
            aria-describedby={`${idPrefix}-credentials-hint${fieldErrors.credentials ? ` ${idPrefix}-credentials-error` : ''}`}
          />
          <span id={`${idPrefix}-credentials-hint`} className="hint">
            Stored encrypted and never shown again
            {integration?.credentialsHint ? ` (stored: ${integration.credentialsHint})` : ''}.
          </span>
          <FieldError id={`${idPrefix}-credentials-error`} message={fieldErrors.credentials} />
        </div>
        <div className="form-actions">
          <button type="submit" disabled={saving}>
            {saving ? 'Saving…' : integration ? 'Save integration' : 'Add integration'}
          </button>
          <button type="button" className="button-secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </div>
      <div className="form-errors" aria-live="polite">
        {apiError && <ErrorNotice message={apiError.message} details={apiError.details} />}
      </div>
    </form>
  );
}
