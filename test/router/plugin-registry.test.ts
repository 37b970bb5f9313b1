// The plugin registry maps each class by its own `static type` (the name is written once, on the class).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registry } from '../../src/receiver.ts';
import { pluginRegistry, type FilterClass } from '../../src/router/plugin-registry.ts';
import { HttpInput } from '../../src/input/http.ts';
import { DedupFilter } from '../../src/filter/dedup.ts';
import { RecordTransformerFilter } from '../../src/filter/record-transformer.ts';
import { StdoutOutput } from '../../src/output/stdout.ts';
import { NullOutput } from '../../src/output/null.ts';
import { RelabelOutput } from '../../src/output/relabel.ts';
import { FileOutput } from '../../src/output/file.ts';
import { S3Output } from '../../src/output/s3.ts';
import { SecondaryFileMatch } from '../../src/output/secondary-file.ts';
import { BufferedOutput } from '../../src/buffer/buffered-output.ts';

test('every registered class is keyed by its static type', () => {
  for (const kind of ['inputs', 'filters', 'outputs'] as const) {
    for (const [key, Class] of Object.entries(registry[kind])) assert.equal(key, Class.type, `${kind}.${key}`);
  }
});

test('the receiver registers exactly the Fluentd plugin types we implement', () => {
  assert.deepEqual(Object.keys(registry.inputs).sort(), ['http', 'monitor_agent', 'prometheus', 'prometheus_monitor', 'prometheus_output_monitor', 'teleport']);
  assert.equal(registry.inputs.http, HttpInput);
  assert.deepEqual(Object.keys(registry.filters), [RecordTransformerFilter.type, DedupFilter.type]);
  assert.equal(registry.filters.record_transformer, RecordTransformerFilter);
  assert.equal(registry.filters.dedup, DedupFilter);
  assert.deepEqual(Object.keys(registry.outputs).sort(), ['file', 'null', 'relabel', 's3', 'secondary_file', 'stdout']);
  assert.equal(registry.outputs.stdout, StdoutOutput);
  assert.equal(registry.outputs.null, NullOutput);
  assert.equal(registry.outputs.relabel, RelabelOutput);
  assert.equal(registry.outputs.secondary_file, SecondaryFileMatch, 'secondary_file is registered only to refuse it outside <secondary>');
  assert.equal(registry.outputs.file!.type, FileOutput.type);
  assert.equal(registry.outputs.s3!.type, S3Output.type);
  assert.ok(registry.outputs.s3!.prototype instanceof BufferedOutput, 's3 is a sink inside a BufferedOutput');
  assert.ok(registry.outputs.file!.prototype instanceof BufferedOutput, 'file is a sink inside a BufferedOutput');
});

test('two classes claiming one type are refused', () => {
  const Twin = class extends RecordTransformerFilter {} as FilterClass;
  assert.throws(() => pluginRegistry({ inputs: [], filters: [RecordTransformerFilter, Twin], outputs: [] }), /two filter plugins claim @type record_transformer/);
});
