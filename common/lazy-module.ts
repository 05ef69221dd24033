// A package loaded on its first use rather than when the importing module is evaluated. The integration modules
// are imported whole by the API and the worker alike, so a static import of an SDK only the worker (or one rare
// route) uses would sit in the API's memory from its start (issue 10: the SDKs of mail, Linear, Slack and the
// stores were ~50 MB of the API's resident memory). Types come from `import type`, which costs nothing at run time;
// api/start-footprint.test.ts lists the packages the API must not load at start.

/**
 * `load` is called on the first call; every call gets the same promise once it succeeds. A failed load is not kept:
 * the next call tries again (an import that failed once, say for lack of memory, is not a failure for good).
 */
export function onFirstUse<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    });
    return loaded;
  };
}
