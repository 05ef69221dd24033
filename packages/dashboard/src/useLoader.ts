// Loads data for a page and keeps its loading and error states, so every page can show them.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, describeError } from './api.ts';

export type Loaded<T> = {
  data: T | undefined;
  error: string | null;
  /** The HTTP status of a failed load (404: there is no such thing), null when it did not get an answer. */
  errorStatus: number | null;
  loading: boolean;
  /** Loads again (after a change, or a conflict); resolves once the new data is in. */
  reload: () => Promise<void>;
};

/** `key` names what is loaded (e.g. the ticket id): when it changes, the data loads again. */
export function useLoader<T>(key: string, load: () => Promise<T>): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [errorStatus, setErrorStatus] = useState<number | null>(null);
  const [loading, setLoading] = useState(true);
  // Only the latest request may write state: a slow answer for old filters must not replace a newer one.
  const latest = useRef(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` decides when `load` changes (it is a new closure each render)
  const reload = useCallback(async () => {
    const request = ++latest.current;
    setLoading(true);
    setError(null);
    setErrorStatus(null);
    try {
      const result = await load();
      if (request === latest.current) setData(result);
    } catch (e) {
      if (request === latest.current) {
        setError(describeError(e));
        setErrorStatus(e instanceof ApiError ? e.status : null);
      }
    } finally {
      if (request === latest.current) setLoading(false);
    }
  }, [key]);

  useEffect(() => {
    void reload();
  }, [reload]);

  return { data, error, errorStatus, loading, reload };
}
