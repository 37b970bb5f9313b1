// in_http keeps a connection's pipelined requests in emit order (src/input/http.ts #handle).

import type { IncomingMessage } from 'node:http';

/**
 * One request's place in its connection's emit order. The promise a later request
 * waits on is made only when one does (pipelined requests): a keep-alive client that
 * waits for each answer costs no promise here.
 */
export class EmitTurn {
  /** The request (its `complete` says whether its body was read: the client-error handler asks). */
  readonly req: IncomingMessage;
  done = false;
  #wake: (() => void) | undefined;
  #waiting: Promise<void> | undefined;

  constructor(req: IncomingMessage) {
    this.req = req;
  }

  release(): void {
    this.done = true;
    this.#wake?.();
  }

  wait(): Promise<void> {
    return (this.#waiting ??= new Promise<void>((resolve) => (this.#wake = resolve)));
  }
}
