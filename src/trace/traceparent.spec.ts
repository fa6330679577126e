import { formatTraceParent, parseTraceParent } from './traceparent';

/*
 * W3C Trace Context, `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header):
 *   version "-" trace-id "-" parent-id "-" trace-flags, all lower-case hex (HEXDIGLC);
 *   version ff is invalid; an all-zero trace-id or parent-id is invalid; version 00 is exactly
 *   55 characters; a higher version may carry more fields after a dash (section Versioning of
 *   traceparent), which an implementation of version 00 parses the version 00 part of.
 * Cases follow the spec's examples and the W3C trace-context test suite (test/test.py).
 */

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
/** The spec's own example. */
const SPEC_EXAMPLE = `00-${TRACE_ID}-${PARENT_ID}-01`;

describe('parseTraceParent: valid headers', () => {
  it("parses the spec's example (sampled)", () => {
    expect(parseTraceParent(SPEC_EXAMPLE)).toEqual({ traceId: TRACE_ID, parentId: PARENT_ID, flags: '01' });
  });

  it("parses the spec's example not sampled (flags 00)", () => {
    expect(parseTraceParent(`00-${TRACE_ID}-${PARENT_ID}-00`)).toEqual({ traceId: TRACE_ID, parentId: PARENT_ID, flags: '00' });
  });

  it('keeps unknown flag bits (a receiver must not reject them)', () => {
    expect(parseTraceParent(`00-${TRACE_ID}-${PARENT_ID}-09`)?.flags).toBe('09');
    expect(parseTraceParent(`00-${TRACE_ID}-${PARENT_ID}-ff`)?.flags).toBe('ff');
  });

  it('accepts ids that are non-zero in a single digit only', () => {
    const traceId = `${'0'.repeat(31)}1`;
    const parentId = `1${'0'.repeat(15)}`;
    expect(parseTraceParent(`00-${traceId}-${parentId}-01`)).toEqual({ traceId, parentId, flags: '01' });
  });

  it('accepts every lower-case hex digit in every field', () => {
    const traceId = '0123456789abcdef0123456789abcdef';
    const parentId = 'fedcba9876543210';
    expect(parseTraceParent(`00-${traceId}-${parentId}-0a`)).toEqual({ traceId, parentId, flags: '0a' });
  });

  it('ignores optional whitespace around the field value (W3C test suite: ows handling)', () => {
    expect(parseTraceParent(` ${SPEC_EXAMPLE}`)?.traceId).toBe(TRACE_ID);
    expect(parseTraceParent(`${SPEC_EXAMPLE} `)?.traceId).toBe(TRACE_ID);
    expect(parseTraceParent(`\t${SPEC_EXAMPLE}\t `)?.traceId).toBe(TRACE_ID);
  });

  describe('a future version (forward compatibility)', () => {
    it('parses the version 00 part of a header with extra fields after a dash', () => {
      expect(parseTraceParent(`cc-${TRACE_ID}-${PARENT_ID}-01-what-the-future-will-be-like`)).toEqual({
        traceId: TRACE_ID,
        parentId: PARENT_ID,
        flags: '01',
      });
    });

    it('parses a future version of exactly 55 characters', () => {
      expect(parseTraceParent(`01-${TRACE_ID}-${PARENT_ID}-01`)?.traceId).toBe(TRACE_ID);
      expect(parseTraceParent(`fe-${TRACE_ID}-${PARENT_ID}-00-x`)?.traceId).toBe(TRACE_ID);
    });

    it('rejects extra data not introduced by a dash', () => {
      expect(parseTraceParent(`cc-${TRACE_ID}-${PARENT_ID}-01what-the-future-will-be-like`)).toBeNull();
      expect(parseTraceParent(`cc-${TRACE_ID}-${PARENT_ID}-01.what-the-future-will-be-like`)).toBeNull();
      expect(parseTraceParent(`cc-${TRACE_ID}-${PARENT_ID}-011`)).toBeNull();
    });

    it('still applies the version 00 rules to the fields it parses', () => {
      expect(parseTraceParent(`cc-${'0'.repeat(32)}-${PARENT_ID}-01-extra`)).toBeNull();
      expect(parseTraceParent(`cc-${TRACE_ID}-${'0'.repeat(16)}-01-extra`)).toBeNull();
      expect(parseTraceParent(`cc-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01-extra`)).toBeNull();
      expect(parseTraceParent(`cc-${TRACE_ID}-${PARENT_ID}-0g-extra`)).toBeNull();
      expect(parseTraceParent(`cc-${TRACE_ID}-${PARENT_ID}`)).toBeNull();
    });
  });
});

describe('parseTraceParent: invalid headers', () => {
  it.each<[string, string]>([
    // version
    ['version ff (forbidden)', `ff-${TRACE_ID}-${PARENT_ID}-01`],
    ['version ff with extra fields', `ff-${TRACE_ID}-${PARENT_ID}-01-extra`],
    ['a one-digit version', `0-${TRACE_ID}-${PARENT_ID}-01`],
    ['a three-digit version', `000-${TRACE_ID}-${PARENT_ID}-01`],
    ['a non-hex version', `0g-${TRACE_ID}-${PARENT_ID}-01`],
    ['a version with a dot (".0")', `.0-${TRACE_ID}-${PARENT_ID}-01`],
    ['a version with a dot ("0.")', `0.-${TRACE_ID}-${PARENT_ID}-01`],
    ['an upper-case version', `CC-${TRACE_ID}-${PARENT_ID}-01-extra`],
    ['version 00 with extra fields', `00-${TRACE_ID}-${PARENT_ID}-01-what-the-future-will-be-like`],
    ['version 00 with one trailing character', `00-${TRACE_ID}-${PARENT_ID}-01-`],
    ['version 00 with trailing data and no dash', `00-${TRACE_ID}-${PARENT_ID}-01x`],
    // trace-id
    ['an all-zero trace-id', `00-${'0'.repeat(32)}-${PARENT_ID}-01`],
    ['an upper-case trace-id', `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`],
    ['a partly upper-case trace-id', `00-4BF92f3577b34da6a3ce929d0e0e4736-${PARENT_ID}-01`],
    ['a non-hex trace-id', `00-4bf92f3577b34da6a3ce929d0e0e473g-${PARENT_ID}-01`],
    ['a trace-id with a dot', `00-4bf92f3577b34da6a3ce929d0e0e473.-${PARENT_ID}-01`],
    ['a trace-id one digit short', `00-${TRACE_ID.slice(1)}-${PARENT_ID}-01`],
    ['a trace-id one digit long', `00-${TRACE_ID}0-${PARENT_ID}-01`],
    ['a trace-id one digit short, parent-id one long (same total length)', `00-${TRACE_ID.slice(1)}-${PARENT_ID}0-01`],
    // parent-id
    ['an all-zero parent-id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['an upper-case parent-id', `00-${TRACE_ID}-00F067AA0BA902B7-01`],
    ['a non-hex parent-id', `00-${TRACE_ID}-00f067aa0ba902bz-01`],
    ['a parent-id one digit short', `00-${TRACE_ID}-${PARENT_ID.slice(1)}-01`],
    ['a parent-id one digit long', `00-${TRACE_ID}-${PARENT_ID}0-01`],
    // flags
    ['non-hex flags', `00-${TRACE_ID}-${PARENT_ID}-0x`],
    ['flags with a dot', `00-${TRACE_ID}-${PARENT_ID}-.0`],
    ['upper-case flags', `00-${TRACE_ID}-${PARENT_ID}-0A`],
    ['one-digit flags', `00-${TRACE_ID}-${PARENT_ID}-1`],
    ['three-digit flags', `00-${TRACE_ID}-${PARENT_ID}-001`],
    ['missing flags', `00-${TRACE_ID}-${PARENT_ID}`],
    ['empty flags', `00-${TRACE_ID}-${PARENT_ID}-`],
    // separators and shape
    ['no dashes at all', `00${TRACE_ID}${PARENT_ID}01`],
    ['the first dash missing', `00${TRACE_ID}-${PARENT_ID}-01`],
    ['the last dash missing', `00-${TRACE_ID}-${PARENT_ID}01`],
    ['underscores instead of dashes', `00_${TRACE_ID}_${PARENT_ID}_01`],
    ['dots instead of dashes (same length)', `00.${TRACE_ID}.${PARENT_ID}.01`],
    ['a doubled dash', `00--${TRACE_ID}-${PARENT_ID}-01`],
    ['the empty string', ''],
    ['whitespace only', '   '],
    ['inner whitespace', `00-${TRACE_ID} -${PARENT_ID}-01`],
    ['two headers joined by a comma (a duplicated traceparent)', `${SPEC_EXAMPLE}, 00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`],
    ['random text', 'this is not a traceparent header at all, honestly, no'],
  ])('rejects %s', (_name, header) => {
    expect(parseTraceParent(header)).toBeNull();
  });

  it('rejects anything that is not a single string', () => {
    expect(parseTraceParent(undefined)).toBeNull();
    // A header given twice arrives as an array from some sources: neither value can be trusted.
    expect(parseTraceParent([SPEC_EXAMPLE])).toBeNull();
    expect(parseTraceParent([SPEC_EXAMPLE, SPEC_EXAMPLE])).toBeNull();
    expect(parseTraceParent([])).toBeNull();
    expect(parseTraceParent(null as unknown as string)).toBeNull();
    expect(parseTraceParent(42 as unknown as string)).toBeNull();
    expect(parseTraceParent({ traceId: TRACE_ID } as unknown as string)).toBeNull();
  });
});

describe('formatTraceParent', () => {
  it("writes the spec's example", () => {
    expect(formatTraceParent(TRACE_ID, PARENT_ID, '01')).toBe(SPEC_EXAMPLE);
  });

  it('always writes version 00, 55 characters', () => {
    const header = formatTraceParent('0123456789abcdef0123456789abcdef', 'fedcba9876543210', '00');
    expect(header).toBe('00-0123456789abcdef0123456789abcdef-fedcba9876543210-00');
    expect(header).toHaveLength(55);
  });

  it('round-trips through parseTraceParent', () => {
    const parsed = parseTraceParent(formatTraceParent(TRACE_ID, 'b7ad6b7169203331', '00'));
    expect(parsed).toEqual({ traceId: TRACE_ID, parentId: 'b7ad6b7169203331', flags: '00' });
  });

  it('continues a future-version trace as version 00 without its extra fields', () => {
    const parsed = parseTraceParent(`cc-${TRACE_ID}-${PARENT_ID}-01-what-the-future-will-be-like`)!;
    expect(formatTraceParent(parsed.traceId, 'b7ad6b7169203331', parsed.flags)).toBe(`00-${TRACE_ID}-b7ad6b7169203331-01`);
  });
});
