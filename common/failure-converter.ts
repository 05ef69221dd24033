// Loaded by path (DataConverter.failureConverterPath) in every client and worker, and bundled into the workflow
// isolate, so failures are converted the same way wherever they are raised. Error messages and stack traces carry
// user input (a Linear identifier, a query's parameters), so they travel as an encoded payload that the payload
// codec encrypts, never as Temporal's plain `message` and `stack_trace` fields.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
