// The time area's public surface (style.md "TypeScript modules and errors").
export { EventTime } from './event-time.ts';
export { TimeError, type TimeErrorCode } from './errors.ts';
export { UTC, localZone, parseZone, type TimeZone } from './zone.ts';
export { Strftime, STDOUT_TIME_FORMAT, stdoutTimeFormatter } from './strftime.ts';
export { Strptime, type ParsedTime } from './strptime.ts';
export { TimeParser, type TimeParserOptions } from './time-parser.ts';
