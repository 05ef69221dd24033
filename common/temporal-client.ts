// The one way every process (API, worker, relay, scripts) talks to Temporal: same address, namespace and
// payload codec, so what one process encrypts into a workflow history every other one can read.
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { KeyRing } from './config.ts';
import { EncryptionCodec } from './temporal-codec.ts';

export type TemporalSettings = { address: string; namespace: string; codecKeys: KeyRing };

/**
 * The failure converter module: failure messages and stacks become encoded payloads, so the codec encrypts them
 * like any other payload. The workflow bundle must be built with the same path (worker/create-worker.ts).
 */
export const failureConverterPath = fileURLToPath(new URL('./failure-converter.ts', import.meta.url));

/** The data converter for clients and workers: default JSON payloads and encoded failures, encrypted by the codec. */
export function temporalDataConverter(codecKeys: KeyRing): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(codecKeys)], failureConverterPath };
}

export type TemporalClientHandle = { client: Client; connection: Connection; close(): Promise<void> };

export async function connectTemporalClient(settings: TemporalSettings): Promise<TemporalClientHandle> {
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({
    connection,
    namespace: settings.namespace,
    dataConverter: temporalDataConverter(settings.codecKeys),
  });
  return { client, connection, close: () => connection.close() };
}
