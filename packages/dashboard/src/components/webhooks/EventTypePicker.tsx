// Which event types an endpoint receives: one checkbox per type of the catalogue the API publishes.
import { listWebhookEventTypes } from '../../api.ts';
import { useLoader } from '../../useLoader.ts';
import { ErrorNotice, FieldError, Loading } from '../Notices.tsx';

const TEST_EVENT_TYPE = 'webhook.test';

type Props = {
  idPrefix: string;
  selected: string[];
  onChange: (selected: string[]) => void;
  error?: string;
};

export function EventTypePicker({ idPrefix, selected, onChange, error }: Props) {
  // webhook.test goes only to the endpoint a test is sent to, whatever it subscribes to: nothing to choose.
  const eventTypes = useLoader('webhook-event-types', async () =>
    (await listWebhookEventTypes()).data.filter((t) => t.type !== TEST_EVENT_TYPE),
  );
  const errorId = `${idPrefix}-event-types-error`;

  function toggle(type: string, checked: boolean) {
    onChange(checked ? [...selected, type] : selected.filter((t) => t !== type));
  }

  const all = eventTypes.data?.map((t) => t.type) ?? [];
  return (
    <fieldset className="event-type-picker" aria-describedby={error ? errorId : undefined}>
      <legend>Event types</legend>
      {eventTypes.loading && <Loading what="event types" />}
      {eventTypes.error && <ErrorNotice message={eventTypes.error} onRetry={() => void eventTypes.reload()} />}
      {eventTypes.data && (
        <>
          <div className="event-type-bulk">
            <button type="button" className="button-secondary" onClick={() => onChange(all)}>
              Select all
            </button>
            <button type="button" className="button-secondary" onClick={() => onChange([])}>
              Clear
            </button>
          </div>
          <ul className="event-type-list">
            {eventTypes.data.map((t) => (
              <li key={t.type} className="field-checkbox">
                <input
                  id={`${idPrefix}-type-${t.type}`}
                  type="checkbox"
                  checked={selected.includes(t.type)}
                  onChange={(e) => toggle(t.type, e.target.checked)}
                  aria-describedby={t.description ? `${idPrefix}-type-${t.type}-description` : undefined}
                />
                <label htmlFor={`${idPrefix}-type-${t.type}`}>
                  <code>{t.type}</code>
                </label>
                {t.description && (
                  <span id={`${idPrefix}-type-${t.type}-description`} className="hint">
                    {t.description}
                  </span>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
      <FieldError id={errorId} message={error} />
    </fieldset>
  );
}
