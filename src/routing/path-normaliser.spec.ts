import { normalisePath } from './path-normaliser';

describe('normalisePath', () => {
  describe('paths that are already normal', () => {
    it.each(['/', '/api', '/api/users/42', '/api/users/', '/a/b/c/', '/a.b/c..d/.e/f.'])('leaves %s unchanged', (path) => {
      expect(normalisePath(path)).toBe(path);
    });
  });

  describe('dot segments', () => {
    it.each([
      ['/a/./b', '/a/b'],
      ['/./a', '/a'],
      ['/a/b/../c', '/a/c'],
      ['/a/b/../../c', '/c'],
      ['/api/users/../admin', '/api/admin'],
      ['/a/./b/./c', '/a/b/c'],
      ['/a/b/./../c', '/a/c'],
    ])('resolves %s to %s', (raw, expected) => {
      expect(normalisePath(raw)).toBe(expected);
    });

    it.each([
      ['/a/b/.', '/a/b/'],
      ['/a/b/..', '/a/'],
      ['/a/..', '/'],
      ['/.', '/'],
      ['/..', '/'],
    ])('a final dot segment %s leaves a directory path %s', (raw, expected) => {
      expect(normalisePath(raw)).toBe(expected);
    });

    it('keeps segments that merely contain dots', () => {
      expect(normalisePath('/a/.hidden/..b/c...')).toBe('/a/.hidden/..b/c...');
      expect(normalisePath('/a/.well-known/../x')).toBe('/a/x');
    });
  });

  describe('cannot climb above the root', () => {
    it.each([
      ['/../etc/passwd', '/etc/passwd'],
      ['/../../../etc/passwd', '/etc/passwd'],
      ['/a/../../b', '/b'],
      ['/a/../../../', '/'],
      ['/api/../../_gateway/health', '/_gateway/health'],
    ])('%s becomes %s', (raw, expected) => {
      expect(normalisePath(raw)).toBe(expected);
    });
  });

  describe('duplicate slashes', () => {
    it.each([
      ['//a', '/a'],
      ['/a//b', '/a/b'],
      ['/a///b////c', '/a/b/c'],
      ['/a/b//', '/a/b/'],
      ['////', '/'],
    ])('merges %s to %s', (raw, expected) => {
      expect(normalisePath(raw)).toBe(expected);
    });

    it('merges slashes before resolving dot segments', () => {
      // `//..` must not count the empty segment as the one `..` removes.
      expect(normalisePath('/a/b//../c')).toBe('/a/c');
      expect(normalisePath('/a//./b')).toBe('/a/b');
    });
  });

  describe('percent-encoding', () => {
    it.each([
      ['/a/%2e%2e/b', '/b'],
      ['/a/%2E%2E/b', '/b'],
      ['/a/b/%2e%2e/%2e%2e/c', '/c'],
      ['/a/.%2e/b', '/b'],
      ['/a/%2e./b', '/b'],
      ['/a/%2e/b', '/a/b'],
      ['/%2e%2e/%2e%2e/etc', '/etc'],
    ])('decodes encoded dots before resolving: %s -> %s', (raw, expected) => {
      expect(normalisePath(raw)).toBe(expected);
    });

    it.each([
      ['/%61pi', '/api'],
      ['/a%2Db', '/a-b'],
      ['/a%5Fb', '/a_b'],
      ['/a%7eb', '/a~b'],
      ['/%41%5A%30%39', '/AZ09'],
    ])('decodes other unreserved characters: %s -> %s', (raw, expected) => {
      expect(normalisePath(raw)).toBe(expected);
    });

    it('keeps an encoded slash encoded (it is data, not a separator)', () => {
      expect(normalisePath('/a%2Fb')).toBe('/a%2Fb');
      expect(normalisePath('/files/a%2F..%2Fsecret')).toBe('/files/a%2F..%2Fsecret');
      expect(normalisePath('/a/%2F/b')).toBe('/a/%2F/b');
    });

    it('upper-cases the hex digits of escapes it keeps', () => {
      expect(normalisePath('/a%2fb')).toBe('/a%2Fb');
      expect(normalisePath('/q%3a%3b%3c')).toBe('/q%3A%3B%3C');
      expect(normalisePath('/caf%c3%a9')).toBe('/caf%C3%A9');
      expect(normalisePath('/sp%20ace')).toBe('/sp%20ace');
    });

    it('decodes exactly once (no double decoding)', () => {
      expect(normalisePath('/a/%252e%252e/b')).toBe('/a/%252e%252e/b');
      expect(normalisePath('/%25')).toBe('/%25');
    });

    it('escapes a stray % as %25, so no later pass (or upstream) can read a new escape into it', () => {
      expect(normalisePath('/a%zz')).toBe('/a%25zz');
      expect(normalisePath('/a%2')).toBe('/a%252');
      expect(normalisePath('/100%')).toBe('/100%25');
      // %%32e would otherwise decode to %2e: a dot segment to the upstream.
      expect(normalisePath('/x/%%32e%%32e/admin')).toBe('/x/%252e%252e/admin');
      expect(normalisePath(normalisePath('/x/%%32e'))).toBe(normalisePath('/x/%%32e'));
    });

    it('does not turn an encoded slash into a separator that duplicate-slash merging sees', () => {
      expect(normalisePath('/a/%2F%2F/b')).toBe('/a/%2F%2F/b');
    });
  });

  describe('trailing slash', () => {
    it('is kept', () => {
      expect(normalisePath('/api/users/')).toBe('/api/users/');
      expect(normalisePath('/api/./users/')).toBe('/api/users/');
      expect(normalisePath('/api//users//')).toBe('/api/users/');
      expect(normalisePath('/api/x/../users/')).toBe('/api/users/');
    });

    it('is not added', () => {
      expect(normalisePath('/api/users')).toBe('/api/users');
      expect(normalisePath('/api/x/../users')).toBe('/api/users');
    });
  });

  describe('leading slash', () => {
    it('is added when missing', () => {
      expect(normalisePath('')).toBe('/');
      expect(normalisePath('a/b')).toBe('/a/b');
    });

    it('is added when missing, keeping the first segment when dot segments follow', () => {
      expect(normalisePath('a/./b')).toBe('/a/b');
      expect(normalisePath('a/b/../c')).toBe('/a/c');
    });
  });

  it('is idempotent', () => {
    const inputs = [
      '/a/%2e%2e/b',
      '/a//b/./c/../d/',
      '/x%2fy/%7e/z',
      '/../../a',
      '/a/%2E/%2e%2E/b%3a',
      '/a/b/..',
    ];
    for (const input of inputs) {
      const once = normalisePath(input);
      expect(normalisePath(once)).toBe(once);
    }
  });
});
