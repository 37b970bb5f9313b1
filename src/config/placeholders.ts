// Values a user forgot to fill in (issue 13 defect 5): template placeholders
// such as `REPLACE_s3_bucket` and empty s3_bucket / s3_endpoint. Fluentd
// accepts them and fails later against S3; --dry-run reports them as errors,
// a normal start as warnings.

import type { ConfigElement, SourcePos } from '../params/element.ts';

export interface ConfigProblem {
  readonly message: string;
  readonly pos: SourcePos;
}

const PLACEHOLDER = /\bREPLACE_[A-Za-z0-9_]*|\bCHANGE_?ME\b/i;
const MUST_NOT_BE_EMPTY = ['s3_bucket', 's3_endpoint'];

/** Every unfilled placeholder and empty must-have value under `root`, in file order. */
export function findPlaceholders(root: ConfigElement): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  const walk = (e: ConfigElement): void => {
    for (const p of e.params.values()) {
      const m = PLACEHOLDER.exec(p.value);
      if (m) {
        found.push({ pos: p.pos, message: `${p.key} is still the placeholder '${m[0]}'; replace it with the real value` });
      } else if (p.value === '' && MUST_NOT_BE_EMPTY.includes(p.key)) {
        found.push({ pos: p.pos, message: `${p.key} is empty; set it (an unset "#{ENV['…']}" gives '')` });
      }
    }
    for (const child of e.elements) walk(child);
  };
  walk(root);
  return found;
}
