// A workflow module for tests that need a worker polling workflow tasks without the product's bundle.
export async function noopWorkflow(): Promise<void> {}
