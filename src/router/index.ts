// The router area's public surface.
export { Pipeline } from './pipeline.ts';
export type { PluginRegistry, AgentEnvironment } from './pipeline.ts';
export { EventRouter } from './event-router.ts';
export type { Rule } from './event-router.ts';
export { compilePatterns, compilePattern } from './pattern.ts';
export type { TagMatcher } from './pattern.ts';
export { sessionTagWarnings } from './session-trap.ts';
