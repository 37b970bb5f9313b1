// A known trap, not a Fluentd rule: teleport-event-handler POSTs session
// recordings to `<session-url>.<sid>.log`, so their tag is
// `session.<sid>.log`, which the Panther guide's `<match session.*>` never
// matches (`*` is exactly one tag part). Routing stays Fluentd's; we only say so.

import type { Rule } from './event-router.ts';

const SAMPLE_SID = '00000000-0000-4000-8000-000000000000';
const SENT_TAG = `session.${SAMPLE_SID}.log`;
const SHORT_TAG = `session.${SAMPLE_SID}`;

export function sessionTagWarnings(rules: readonly Rule[]): string[] {
  const firstMatch = (tag: string) => rules.find((r) => r.kind === 'match' && r.matcher.match(tag));
  const forShort = firstMatch(SHORT_TAG);
  if (!forShort || firstMatch(SENT_TAG)) return [];
  return [
    `<match ${forShort.matcher.source}> never matches teleport-event-handler session events: they arrive tagged ` +
      `session.<sid>.log (e.g. ${SENT_TAG}), and '*' matches exactly one tag part; write <match session.**> to route them`,
  ];
}
