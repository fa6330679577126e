import { parsePathPattern, templateReferences, type PatternSegment } from './path-pattern';

describe('parsePathPattern', () => {
  describe('valid patterns', () => {
    it('parses a static path', () => {
      const pattern = parsePathPattern('/api/users/me');
      expect(pattern.segments).toEqual<PatternSegment[]>([
        { kind: 'static', value: 'api' },
        { kind: 'static', value: 'users' },
        { kind: 'static', value: 'me' },
      ]);
      expect(pattern.paramNames).toEqual([]);
      expect(pattern.hasWildcard).toBe(false);
    });

    it('parses the root path as one empty static segment', () => {
      const pattern = parsePathPattern('/');
      expect(pattern.segments).toEqual<PatternSegment[]>([{ kind: 'static', value: '' }]);
      expect(pattern.paramNames).toEqual([]);
      expect(pattern.hasWildcard).toBe(false);
    });

    it('parses :params in order', () => {
      const pattern = parsePathPattern('/orgs/:org/users/:user_id');
      expect(pattern.segments).toEqual<PatternSegment[]>([
        { kind: 'static', value: 'orgs' },
        { kind: 'param', name: 'org' },
        { kind: 'static', value: 'users' },
        { kind: 'param', name: 'user_id' },
      ]);
      expect(pattern.paramNames).toEqual(['org', 'user_id']);
      expect(pattern.hasWildcard).toBe(false);
    });

    it('parses a * tail', () => {
      const pattern = parsePathPattern('/static/*');
      expect(pattern.segments).toEqual<PatternSegment[]>([{ kind: 'static', value: 'static' }, { kind: 'wildcard' }]);
      expect(pattern.hasWildcard).toBe(true);
      expect(pattern.paramNames).toEqual([]);
    });

    it('parses a lone * as a catch-all', () => {
      const pattern = parsePathPattern('/*');
      expect(pattern.segments).toEqual<PatternSegment[]>([{ kind: 'wildcard' }]);
      expect(pattern.hasWildcard).toBe(true);
    });

    it('parses params followed by a * tail', () => {
      const pattern = parsePathPattern('/api/:version/*');
      expect(pattern.segments).toEqual<PatternSegment[]>([
        { kind: 'static', value: 'api' },
        { kind: 'param', name: 'version' },
        { kind: 'wildcard' },
      ]);
      expect(pattern.paramNames).toEqual(['version']);
      expect(pattern.hasWildcard).toBe(true);
    });

    it('keeps a trailing slash as a final empty segment', () => {
      const pattern = parsePathPattern('/api/');
      expect(pattern.segments).toEqual<PatternSegment[]>([
        { kind: 'static', value: 'api' },
        { kind: 'static', value: '' },
      ]);
    });

    it.each(['/_id/:_x', '/a/:A1', '/v1.2/items~x/a-b', '/a/:id/b/:ID'])('accepts %s', (path) => {
      expect(() => parsePathPattern(path)).not.toThrow();
    });

    it('accepts segments that only contain dots among other characters', () => {
      expect(parsePathPattern('/.well-known/x').segments[0]).toEqual({ kind: 'static', value: '.well-known' });
      expect(parsePathPattern('/a/...').segments[1]).toEqual({ kind: 'static', value: '...' });
    });
  });

  describe('invalid patterns', () => {
    it.each([
      ['', /must start with \//],
      ['api/users', /must start with \//],
      ['*', /must start with \//],
      ['/api?x=1', /\? or #/],
      ['/api#frag', /\? or #/],
      ['/api/*/users', /\* is only allowed as the last segment/],
      ['/*/*', /\* is only allowed as the last segment/],
      ['/api/users*', /\* must be a whole segment/],
      ['/api/*x', /\* must be a whole segment/],
      ['/api/:', /":" is not a valid parameter name/],
      ['/api/:1d', /":1d" is not a valid parameter name/],
      ['/api/:user-id', /":user-id" is not a valid parameter name/],
      ['/api/:id/x/:id', /parameter ":id" appears twice/],
      ['/api//users', /normalised path/],
      ['//api', /normalised path/],
      ['/api/./users', /normalised path/],
      ['/api/../users', /normalised path/],
      ['/api/.', /normalised path/],
      ['/..', /normalised path/],
    ])('rejects %j', (path, message) => {
      expect(() => parsePathPattern(path)).toThrow(message);
    });
  });
});

describe('templateReferences', () => {
  it('finds no references in a static template', () => {
    expect(templateReferences('/v1/users')).toEqual({ params: [], wildcard: false });
  });

  it('lists :params in order of appearance', () => {
    expect(templateReferences('/v1/orgs/:org/users/:id')).toEqual({ params: ['org', 'id'], wildcard: false });
  });

  it('finds params that share a segment with literal text', () => {
    expect(templateReferences('/v1/users/:id.json')).toEqual({ params: ['id'], wildcard: false });
    expect(templateReferences('/v1/:a-:b')).toEqual({ params: ['a', 'b'], wildcard: false });
  });

  it('detects a * segment', () => {
    expect(templateReferences('/v2/*')).toEqual({ params: [], wildcard: true });
    expect(templateReferences('/v2/:id/*')).toEqual({ params: ['id'], wildcard: true });
  });

  it('does not count a * inside a segment as the wildcard', () => {
    expect(templateReferences('/v2/a*b')).toEqual({ params: [], wildcard: false });
    expect(templateReferences('/v2/*x')).toEqual({ params: [], wildcard: false });
  });

  it('does not treat :digits as a param', () => {
    expect(templateReferences('/v1/x:8080')).toEqual({ params: [], wildcard: false });
  });
});
