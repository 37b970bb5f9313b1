// The input area's public surface.
export { HttpInput, params as httpParams } from './http.ts';
export { InputError } from './errors.ts';
export type { InputErrorCode } from './errors.ts';
export { configureTls, params as tlsParams } from './tls.ts';
export type { ServerTlsOptions } from './tls.ts';
export { ListenError, listenError, listeningPid } from './listen-error.ts';
export type { ListenErrorCode } from './listen-error.ts';
