// Keep-alive HTTP/1.1 connections to one origin, one undici Client (one socket, one request at a time) each, taken
// most recently used first, as Node's agents do with `scheduling: 'lifo'`: the fewest connections stay warm.
//
// Why not undici's Pool: a Pool marks a Client busy until the event-loop turn after its response ends (undici waits
// that turn before reusing a socket, so a FIN the server sent right after its answer is seen first), so a sender
// that POSTs again as soon as an answer arrives (every delivery lane does) was handed a NEW connection each time,
// doubling the connections per endpoint. Here a connection is free again as soon as its answer has ended; the next
// request queues on that same Client, which still waits its turn before writing.
import { Client } from 'undici';

export type ConnectionOptions = Client.Options;

export type Connection = {
  readonly client: Client;
  /** Answers completed on the current socket: 0 means the next request goes out on a fresh connection. */
  answeredOnSocket: number;
};

export class Connections {
  readonly #origin: string;
  readonly #options: ConnectionOptions;
  readonly #idle: Connection[] = [];
  readonly #all = new Set<Connection>();

  constructor(origin: string, options: ConnectionOptions) {
    this.#origin = origin;
    this.#options = options;
  }

  /** An idle connection, or a new one (connected by the first request sent through it). No cap: see safe-post.ts. */
  acquire(): Connection {
    const idle = this.#idle.pop();
    if (idle) return idle;
    const connection: Connection = { client: new Client(this.#origin, this.#options), answeredOnSocket: 0 };
    // A new socket (after an idle close, a reset or an abort) starts counting again.
    connection.client.on('connect', () => {
      connection.answeredOnSocket = 0;
    });
    this.#all.add(connection);
    return connection;
  }

  /** Hands a connection back once its request has ended (answered or failed). */
  release(connection: Connection): void {
    if (this.#all.has(connection)) this.#idle.push(connection);
  }

  destroy(): void {
    for (const { client } of this.#all) client.destroy().catch(() => {});
    this.#all.clear();
    this.#idle.length = 0;
  }
}
