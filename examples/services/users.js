'use strict';
/*
 * Example upstream "users".
 *   GET /healthz           200 {"status":"ok"}
 *   GET /v1/users/:id      a user (`me` is user 1); 404 for an unknown id
 *   GET /v2/users/:id      the same user in the v2 shape
 * Usage: node examples/services/users.js [port]   (default 3001, or $PORT)
 */
const { startService, sendJson, seen, parseUrl } = require('./common');

const USERS = new Map([
  ['1', { name: 'Ada Lovelace', email: 'ada@example.com' }],
  ['7', { name: 'Grace Hopper', email: 'grace@example.com' }],
  ['42', { name: 'Alan Turing', email: 'alan@example.com' }],
]);

startService('users', 3001, (req, res, port) => {
  const { segments } = parseUrl(req);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
    return;
  }
  if (segments.length === 1 && segments[0] === 'healthz') {
    sendJson(res, 200, { status: 'ok' });
    return;
  }
  const [version, collection, rawId] = segments;
  if (segments.length === 3 && (version === 'v1' || version === 'v2') && collection === 'users') {
    const id = rawId === 'me' ? '1' : rawId;
    const user = USERS.get(id);
    if (!user) {
      sendJson(res, 404, { error: 'user not found', id: rawId, upstream: seen('users', port, req) });
      return;
    }
    const body =
      version === 'v1'
        ? { id: Number(id), name: user.name, email: user.email }
        : { id: `user_${id}`, displayName: user.name, contact: { email: user.email } };
    sendJson(res, 200, { ...body, upstream: seen('users', port, req) });
    return;
  }
  sendJson(res, 404, { error: 'not found on the users service', upstream: seen('users', port, req) });
});
