// A package loaded on its first use rather than when the importing module is evaluated. The integration modules
// are imported whole by the API and the worker alike, so a static import of an SDK only the worker (or one rare
// route) uses would sit in the API's memory from its start (issue 10: the SDKs of mail, Linear, Slack and the
// stores were ~50 MB of the API's resident memory). Types come from `import type`, which costs nothing at run time;
// test/api-start-footprint.test.ts lists the packages the API must not load at start.

/** `load` is called once, on the first call; every call gets the same promise (a failed load stays failed). */
export function onFirstUse<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load();
    return loaded;
  };
}
