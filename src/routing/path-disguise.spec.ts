import { normalisePath } from './path-normaliser';
import { pathDisguise } from './path-disguise';

/** What the route-match guard does: normalise, then look for a disguised separator. */
const verdict = (raw: string, mode: 'reject' | 'keep' = 'reject'): string | null => pathDisguise(normalisePath(raw), mode);

describe('pathDisguise', () => {
  it.each([
    ['/public/..;/admin', 'dot segment with parameters'],
    ['/public/..;jsessionid=1/admin', 'dot segment with parameters'],
    ['/public/.;/admin', 'dot segment with parameters'],
    ['/public/..%3B/admin', 'dot segment with parameters'],
    ['/public/..\\admin', 'backslash'],
    ['/public/x\\..\\..\\admin', 'backslash'],
    ['/public/..%2Fadmin', 'encoded slash'],
    ['/public/..%2fadmin', 'encoded slash'],
    ['/public/%2e%2e%2fadmin', 'encoded slash'],
    ['/public/..%5Cadmin', 'encoded slash'],
    ['/files/a%2Fb', 'encoded slash'],
  ])('refuses %s (%s) by default', (raw, why) => {
    expect(verdict(raw)).toContain(why);
  });

  it.each([
    ['/public/..%2Fadmin'],
    ['/public/%2e%2e%2Fadmin'],
    ['/public/x%2F..%2F..%2Fadmin'],
    ['/public/x%5C..'],
    ['/public/.%2Fadmin'],
    ['/public/..;%2Fadmin'],
  ])('refuses %s with pathEscapedSlashes: keep, since it hides a dot segment', (raw) => {
    expect(verdict(raw, 'keep')).not.toBeNull();
  });

  it.each([['/files/a%2Fb'], ['/files/reports%2F2026%2Fq3.pdf'], ['/files/a%5Cb'], ['/files/..x%2Fy'], ['/files/x..%2Fy']])(
    'passes %s with pathEscapedSlashes: keep',
    (raw) => {
      expect(verdict(raw, 'keep')).toBeNull();
    },
  );

  it.each([['/public/a;b=c'], ['/public/..x'], ['/public/x..'], ['/public/%2e%2e/admin'], ['/public/a%20b'], ['/'], ['/public/...;/x']])(
    'passes %s, which hides nothing',
    (raw) => {
      expect(verdict(raw)).toBeNull();
    },
  );
});
