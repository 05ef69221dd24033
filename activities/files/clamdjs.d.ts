// clamdjs ships no types; these are the parts clamd.ts uses, as its index.js implements them.
declare module 'clamdjs' {
  import type { Readable } from 'node:stream';
  export interface Scanner {
    /** Resolves with clamd's raw reply ("stream: OK\0"); timeout (ms) bounds connect-to-reply. */
    scanStream(stream: Readable, timeout?: number): Promise<string>;
    scanBuffer(buffer: Buffer, timeout?: number, chunkSize?: number): Promise<string>;
  }
  export function createScanner(host: string, port: number): Scanner;
  /** PONG → true. Its socket timeout has no handler: a server that accepts and never answers hangs it. */
  export function ping(host: string, port: number, timeout?: number): Promise<boolean>;
  export function version(host: string, port: number, timeout?: number): Promise<string>;
  export function isCleanReply(reply: string): boolean;
  const clamdjs: {
    createScanner: typeof createScanner;
    ping: typeof ping;
    version: typeof version;
    isCleanReply: typeof isCleanReply;
  };
  export default clamdjs;
}
