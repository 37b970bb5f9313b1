// The output area's public surface: one class per `@type`.
export { StdoutOutput } from './stdout.ts';
export { NullOutput } from './null.ts';
export { RelabelOutput } from './relabel.ts';
export { FileOutput, FileSink, createFileSink } from './file.ts';
export { S3Output, params as s3Params } from './s3.ts';
export type { S3Params } from './s3.ts';
