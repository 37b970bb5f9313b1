// The filter stage's public surface.
export { RecordTransformerFilter, params as recordTransformerParams } from './record-transformer.ts';
export { FilterError, type FilterErrorCode } from './errors.ts';
