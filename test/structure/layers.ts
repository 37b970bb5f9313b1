// The import rule of issue 11, as data for test/structure/imports.test.ts.
//
// DATA_PATH is the way an event travels (cli → config → input → … → output).
// A folder may import a folder LATER in the list (downstream), never an earlier
// one. Under the data path lie the BASE folders, importable from everywhere; a
// base folder may import only base folders before it in BASE (value/ imports
// nothing of ours, time/ may import value/, params/ may import both).
// params/ is the plugin-facing half of config (ConfigElement, param schemas,
// conversions, ConfigError): every plugin declares its params with it, so it
// cannot sit in config/, which is the first step of the data path.
// ROOF_FILES are the top-level modules every folder may import; they may import
// only base folders (errors.ts imports nothing of ours).
// OUTSIDE folders are not on the data path: cli (and receiver.ts, the
// receiver's wiring) may import anything; the event handler may import the
// folders listed for it; nothing on the data path may import an OUTSIDE one.

export const DATA_PATH = ['config', 'input', 'parser', 'router', 'filter', 'buffer', 'format', 'output'] as const;

export const BASE = ['value', 'time', 'params'] as const;

export const ROOF_FILES = ['errors.ts', 'log.ts', 'plugin-api.ts'] as const;

/** Folders (or top-level files) off the data path, and what each may import besides base folders and roof files. */
export const OUTSIDE: Readonly<Record<string, readonly string[] | '*'>> = {
  cli: '*',
  // dev/: development stores (the embedded S3 of the quickstart); only cli and scripts use them.
  dev: [],
  'receiver.ts': '*',
  'event-handler': ['pki', 'gen', 'config'],
  exporter: ['pki', 'gen', 'config'],
  pki: [],
  gen: [],
};
