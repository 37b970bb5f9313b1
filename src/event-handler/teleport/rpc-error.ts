// Says what a failed call to Teleport tried and why it failed (issue 14 §4). grpc-js reports an
// unreachable server as `No connection established. Last error: Error: connect ECONNREFUSED ….
// Resolution note: ` (an empty note); this interceptor rewrites the status details of every call on
// the channel into `<Rpc> to Teleport <route, address> failed: <cause> (<what it means>)`, so each
// log line that carries the error (watch loop, chunk export, session ingest, locks) names them.
// The status code is kept, so retries and NOT_FOUND/UNIMPLEMENTED handling are unchanged.
import { InterceptingCall, status } from '@grpc/grpc-js';
import type { Interceptor, StatusObject } from '@grpc/grpc-js';

/** Node's socket error codes, in words a user can act on. */
const HINTS: Record<string, string> = {
  ECONNREFUSED: 'nothing accepts connections there: Teleport is down or the port is wrong',
  ENOTFOUND: 'the host name does not resolve: check the spelling and DNS',
  EAI_AGAIN: 'DNS did not answer: check the resolver',
  ETIMEDOUT: 'no answer: a firewall drops the packets, or the host is down',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'no route to the network',
  ECONNRESET: 'the server closed the connection during the handshake',
};

/** The useful part of grpc-js's details (no empty "Resolution note"), plus a hint for a socket error. */
export function causeOf(details: string): string {
  const cause = details
    .replace(/^No connection established\. Last error: (Error: )?/, '')
    .replace(/\.? ?Resolution note: ?$/, '')
    .replace(/^Name resolution failed for target dns:/, 'name resolution failed for ');
  const code = Object.keys(HINTS).find((c) => cause.includes(c));
  return code === undefined ? cause : `${cause} (${HINTS[code]})`;
}

/** The rewritten details of a non-OK status; `where` names the address and the route. */
export function explainStatus(s: StatusObject, rpc: string, where: string): string {
  if (s.code === status.OK || s.code === status.CANCELLED) return s.details;
  const cause = s.code === status.UNAVAILABLE || s.code === status.DEADLINE_EXCEEDED ? causeOf(s.details) : s.details;
  return `${rpc} to Teleport ${where} failed: ${cause}`;
}

/** The channel's interceptor; `where()` is read per call (the route can change on identity refresh). */
export function explainingInterceptor(where: () => string): Interceptor {
  return (options, nextCall) => {
    const rpc = options.method_definition.path.split('/').at(-1) ?? options.method_definition.path;
    return new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        next(metadata, {
          onReceiveStatus(s, nextStatus) {
            nextStatus({ ...s, details: explainStatus(s, rpc, where()) });
          },
        });
      },
    });
  };
}
