'use strict';
/*
 * Example upstream "orders".
 *   GET  /healthz          200 {"status":"ok"}
 *   GET  /orders           the order list (query string echoed)
 *   GET  /orders/:id       one order, 404 if unknown
 *   POST /orders           201 with the JSON body echoed back as a new order (400 if not JSON)
 * Usage: node examples/services/orders.js [port]   (default 3002, or $PORT)
 */
const { startService, sendJson, seen, parseUrl } = require('./common');

const MAX_BODY = 1024 * 1024;
const orders = [
  { id: 1, item: 'keyboard', qty: 1, status: 'shipped' },
  { id: 2, item: 'monitor', qty: 2, status: 'open' },
];

startService('orders', 3002, (req, res, port) => {
  const { segments, query } = parseUrl(req);
  if (segments.length === 1 && segments[0] === 'healthz' && req.method === 'GET') {
    sendJson(res, 200, { status: 'ok' });
    return;
  }
  if (segments[0] !== 'orders' || segments.length > 2) {
    sendJson(res, 404, { error: 'not found on the orders service', upstream: seen('orders', port, req) });
    return;
  }
  if (segments.length === 1 || (segments.length === 2 && segments[1] === '')) {
    if (req.method === 'GET' || req.method === 'HEAD') {
      const status = query.get('status');
      const list = status ? orders.filter((o) => o.status === status) : orders;
      sendJson(res, 200, { orders: list, query: Object.fromEntries(query), upstream: seen('orders', port, req) });
    } else if (req.method === 'POST') {
      createOrder(req, res, port);
    } else {
      sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD, POST' });
    }
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
    return;
  }
  const order = orders.find((o) => String(o.id) === segments[1]);
  if (!order) sendJson(res, 404, { error: 'order not found', id: segments[1], upstream: seen('orders', port, req) });
  else sendJson(res, 200, { ...order, upstream: seen('orders', port, req) });
});

function createOrder(req, res, port) {
  const chunks = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) tooLarge = true;
    else chunks.push(chunk);
  });
  req.on('end', () => {
    if (tooLarge) {
      sendJson(res, 413, { error: `body over ${MAX_BODY} bytes` });
      return;
    }
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      sendJson(res, 400, { error: 'the body must be JSON', receivedBytes: size });
      return;
    }
    const order = { id: orders.length + 1, status: 'open', received: body };
    orders.push(order);
    sendJson(res, 201, { ...order, receivedBytes: size, upstream: seen('orders', port, req) }, { location: `/orders/${order.id}` });
  });
}
