import { acceptableRequestId } from './request-id';

describe('acceptableRequestId', () => {
  it.each(['a', 'req-123', 'A.b_c-D', '0'.repeat(128), 'f47ac10b-58cc-4372-a567-0e02b2c3d479'])('keeps %s', (id) => {
    expect(acceptableRequestId(id)).toBe(id);
  });

  it.each([
    ['empty', ''],
    ['129 characters', 'a'.repeat(129)],
    ['10 KB', 'b'.repeat(10_240)],
    ['a space', 'abc def'],
    ['markup', '<script>'],
    ['a semicolon', 'a;b'],
    ['CR LF', 'abc\r\nSet-Cookie: x=1'],
    ['a NUL', 'a\u0000b'],
    ['non-ASCII', 'caf\u00e9'],
    ['a comma (two headers joined)', 'one, two'],
  ])('refuses %s', (_name, id) => {
    expect(acceptableRequestId(id)).toBeNull();
  });

  it('refuses a missing header and repeated ones', () => {
    expect(acceptableRequestId(undefined)).toBeNull();
    expect(acceptableRequestId(['a', 'b'])).toBeNull();
  });
});
