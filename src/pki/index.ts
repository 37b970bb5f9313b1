export { PkiError } from './errors.ts';
export type { PkiErrorCode } from './errors.ts';
export { generateMtlsCerts, resolveIpSans, encodePair, KEY_LENGTHS } from './mtls.ts';
export type { MtlsOptions, MtlsCerts, KeyPair, KeyLength, EncodedPair } from './mtls.ts';
