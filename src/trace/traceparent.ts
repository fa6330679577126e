/**
 * W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header),
 * parse and format. Pure: no Nest, no I/O.
 */
export interface TraceParent {
  readonly traceId: string;
  readonly parentId: string;
  readonly flags: string;
}

const HEX_LOWER = /^[0-9a-f]+$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_PARENT_ID = '0'.repeat(16);

/**
 * Parses a traceparent header value, or returns null when it is not valid. Version 00 must be
 * exactly 55 characters; a higher version may carry more fields after a dash (forward
 * compatibility, W3C Trace Context section 4.3); version ff is invalid; ids must be lower-case hex and not all zero.
 */
export function parseTraceParent(header: string | string[] | undefined): TraceParent | null {
  if (typeof header !== 'string') return null;
  const value = header.trim();
  if (value.length < 55) return null;
  const version = value.slice(0, 2);
  if (!HEX_LOWER.test(version) || version === 'ff') return null;
  if (version === '00' && value.length !== 55) return null;
  if (value.length > 55 && value[55] !== '-') return null;
  if (value[2] !== '-' || value[35] !== '-' || value[52] !== '-') return null;
  const traceId = value.slice(3, 35);
  const parentId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!HEX_LOWER.test(traceId) || traceId === ZERO_TRACE_ID) return null;
  if (!HEX_LOWER.test(parentId) || parentId === ZERO_PARENT_ID) return null;
  if (!HEX_LOWER.test(flags)) return null;
  return { traceId, parentId, flags };
}

/** Always written as version 00, whatever version came in (W3C Trace Context, section 4.3). */
export function formatTraceParent(traceId: string, parentId: string, flags: string): string {
  return `00-${traceId}-${parentId}-${flags}`;
}
