// The router area's public surface.
export { RootAgent } from './root-agent.ts';
export type { PluginRegistry, AgentEnvironment } from './root-agent.ts';
export { EventRouter } from './event-router.ts';
export type { Rule } from './event-router.ts';
export { compilePatterns, compilePattern } from './pattern.ts';
export type { TagMatcher } from './pattern.ts';
export { sessionTagWarnings } from './session-trap.ts';
