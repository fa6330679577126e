'use strict';
const { AGAINST_BARE } = require('./variants');
/* Turns the results object of run.js into a readable console table and a markdown table. */

const dash = '–';
// A load core this busy (upstream + autocannon) means the load generator, not the proxy, set the pace.
const LOAD_BOUND = 0.97;

function num(x, digits = 0) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return dash;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ms(x) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return dash;
  // autocannon records latencies in whole milliseconds; a .5 comes from a median of two rounds.
  return Number.isInteger(x) || x >= 100 ? num(x) : num(x, 1);
}

function ratio(x) {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(2) : dash;
}

function mib(kb) {
  return typeof kb === 'number' ? num(kb / 1024) : dash;
}

function table(headers, rows, markdown) {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c)));
  if (markdown) {
    const line = (r) => `| ${r.map((c) => c.replace(/([|*])/g, '\\$1')).join(' | ')} |`;
    const sep = headers.map((_, i) => (i === 0 ? '---' : '---:'));
    return [line(cells[0]), line(sep), ...cells.slice(1).map(line)].join('\n');
  }
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const pad = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [pad(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(pad)].join('\n');
}

function problems(m) {
  const bad = (m.non2xx || 0) + (m.errors || 0) + (m.timeouts || 0);
  return bad === 0 ? '0' : `${m.non2xx || 0}/${m.errors || 0}/${m.timeouts || 0}`;
}

function proxySection(results, markdown) {
  const { proxy, settings } = results;
  const footnotes = [];
  const rows = proxy.order.map((name) => {
    const v = proxy.variants[name];
    const m = v.median;
    let label = v.label;
    for (const note of v.notes) {
      footnotes.push(`${'*'.repeat(footnotes.length + 1)} ${note}`);
      label += ` ${'*'.repeat(footnotes.length)}`;
    }
    return [
      label,
      num(m.reqPerSec),
      ms(m.p50),
      ms(m.p99),
      num(m.cpuUsPerReq),
      m.cpuUtilisation === null ? dash : `${num(m.cpuUtilisation * 100)}%`,
      problems(v.totals),
    ];
  });
  const head = `1 KiB JSON response, ${settings.connections} connections (GET ${results.paths.json}), medians of ${settings.rounds} round(s)`;
  const t = table(['variant', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'proxy CPU', 'non-2xx/err/timeout'], rows, markdown);
  const r = proxy.ratios;
  const lines = [
    `gateway/direct req/s ${ratio(r.gatewayToDirectReqPerSec)}`,
    `gateway/peer req/s ${ratio(r.gatewayToPeerReqPerSec)}`,
    `gateway/peer CPU µs/req ${ratio(r.gatewayToPeerCpuPerReq)}`,
    `gateway/peer p99 ${ratio(r.gatewayToPeerP99)}`,
  ];
  if (r.fullToPeerReqPerSec !== undefined && r.fullToPeerReqPerSec !== null) lines.push(`full-policy/peer req/s ${ratio(r.fullToPeerReqPerSec)}`);
  for (const [prefix, label] of Object.values(AGAINST_BARE)) {
    if (r[`${prefix}ToGatewayReqPerSec`] === undefined) continue;
    lines.push(`${label}/bare req/s ${ratio(r[`${prefix}ToGatewayReqPerSec`])}`);
    lines.push(`${label}/bare CPU µs/req ${ratio(r[`${prefix}ToGatewayCpuPerReq`])}`);
  }
  return { head, body: t, ratios: lines, footnotes };
}

function streamSection(results, markdown) {
  const { stream, settings } = results;
  const rows = stream.order.map((name) => {
    const v = stream.variants[name];
    const m = v.median;
    return [
      v.label,
      num(m.mibPerSec),
      ms(m.p50),
      ms(m.p99),
      num(m.cpuUsPerMiB),
      busy(m.proxyCoreBusy, m.loadCoreBusy),
      v.kind === 'direct' ? dash : mib(v.rss.beforeKb),
      v.kind === 'direct' ? dash : mib(v.rss.peakKb),
      problems(v.totals),
    ];
  });
  const rate = settings.streamRate ? `, ${settings.streamRate} requests/s offered` : '';
  const head = `10 MiB streamed response, ${settings.streamConnections} connections${rate} (GET ${results.paths.stream}), medians of ${settings.rounds} round(s)`;
  const t = table(['variant', 'MiB/s', 'p50 ms', 'p99 ms', 'CPU µs/MiB', 'busy: proxy / load core', 'RSS before MiB', 'peak RSS MiB', 'non-2xx/err/timeout'], rows, markdown);
  const r = stream.ratios;
  const growth = stream.rssGrowthMiB;
  const lines = [`gateway/direct MiB/s ${ratio(r.gatewayToDirect)}`, `gateway/peer MiB/s ${ratio(r.gatewayToPeer)}`];
  if (r.gatewayToPeerP99 !== undefined) lines.push(`gateway/peer p99 ${ratio(r.gatewayToPeerP99)}`);
  if (growth && growth.gateway !== null && growth.peer !== null) lines.push(`RSS growth gateway ${growth.gateway.toFixed(1)} MiB, peer ${growth.peer.toFixed(1)} MiB`);
  return {
    head,
    body: t,
    ratios: lines,
    footnotes: loadBoundNote(stream),
  };
}

function busy(proxyCore, loadCore) {
  const pct = (x) => (typeof x === 'number' ? `${Math.round(x * 100)}%` : dash);
  return `${pct(proxyCore)} / ${pct(loadCore)}`;
}

/**
 * A variant whose load core (upstream + autocannon) was full is measured by the load
 * generator: how fairly autocannon reads its sockets decides the tail
 * (bench/README.md "The 50-connection tail is the load generator's").
 */
function loadBoundNote(stream) {
  const bound = stream.order.filter((name) => stream.variants[name].median.loadCoreBusy >= LOAD_BOUND);
  if (bound.length === 0) return [];
  return [
    `load-bound: the load core was at least ${LOAD_BOUND * 100}% busy during the runs of ${bound.join(', ')}; their MiB/s and p99 are capped by the load generator, not by the proxy`,
  ];
}

function routingSection(results, markdown) {
  const { routingMicro: micro, routingE2E: e2e } = results;
  const rows = [];
  if (micro) {
    const [r10, r10k, spread] = micro.results;
    rows.push(['RouteTable.match, ns/op (same 7 requests)', num(r10.nsPerOp), num(r10k.nsPerOp), ratio(micro.ratio10kTo10)]);
    rows.push(['RouteTable.match, ns/op (10k: requests spread over the table)', num(r10.nsPerOp), num(spread.nsPerOp), ratio(micro.ratio10kSpreadTo10)]);
  }
  if (e2e) {
    rows.push([`gateway end-to-end, req/s (GET ${results.paths.json})`, num(e2e.small.reqPerSec), num(e2e.large.reqPerSec), ratio(e2e.reqPerSecRatio)]);
    rows.push(['gateway end-to-end, CPU µs/req', num(e2e.small.cpuUsPerReq), num(e2e.large.cpuUsPerReq), ratio(e2e.cpuPerReqRatio)]);
    rows.push(['gateway end-to-end, p99 ms', ms(e2e.small.p99), ms(e2e.large.p99), ratio(e2e.p99Ratio)]);
  }
  const head = 'Routing scale: 10 vs 10,000 routes (per service: static, :param, nested :param, `*` tail)';
  return { head, body: table(['measure', '10 routes', '10,000 routes', '10k/10'], rows, markdown), ratios: [], footnotes: [] };
}

function sections(results, markdown) {
  const out = [];
  if (results.proxy) out.push(proxySection(results, markdown));
  if (results.stream) out.push(streamSection(results, markdown));
  if (results.routingMicro || results.routingE2E) out.push(routingSection(results, markdown));
  return out;
}

function describeRun(results) {
  const m = results.meta;
  const s = results.settings;
  const pin = m.pinning ? 'proxy under test on core 0, upstream + autocannon on core 1 (taskset)' : 'no CPU pinning';
  const timing = [`${s.warmupSec} s warm-up + ${s.durationSec} s measured`];
  if (results.stream) timing.push(`streaming ${s.streamWarmupSec} s + ${s.streamDurationSec} s`);
  const load = (xs) => xs.map((x) => x.toFixed(2)).join('/');
  let text =
    `${m.machine}, Node ${m.node}, ${m.date.slice(0, 10)}; ${pin}; ${timing.join(', ')}; ` +
    `${s.rounds} round(s) alternating the variants${s.fresh ? ' (1 KiB: a new process of each proxy every round)' : ''}, medians; load average ${load(m.loadAverageStart)} at start, ${load(m.loadAverageEnd)} at end`;
  if (m.otherLoad) {
    text +=
      `; other processes used a median ${num(m.otherLoad.core0 * 100)}% of core 0 (max ${num(m.otherLoad.maxCore0 * 100)}%) ` +
      `and ${num(m.otherLoad.core1 * 100)}% of core 1 during the measured runs`;
  }
  if (s.quick) text += '; --quick smoke run (figures not meaningful)';
  return text;
}

function renderText(results) {
  const parts = [`\n${describeRun(results)}\n`];
  for (const s of sections(results, false)) {
    parts.push(`${s.head}\n${s.body}`);
    for (const f of s.footnotes) parts.push(f);
    if (s.ratios.length) parts.push(`ratios: ${s.ratios.join(' | ')}`);
    parts.push('');
  }
  return parts.join('\n');
}

function renderMarkdown(results) {
  const parts = [`Measured on ${describeRun(results)}.`, ''];
  for (const s of sections(results, true)) {
    parts.push(`**${s.head}**`, '', s.body, '');
    for (const f of s.footnotes) parts.push(`${f.replace(/^(\*+)/, (stars) => stars.replace(/\*/g, '\\*'))}  `);
    if (s.footnotes.length) parts.push('');
    if (s.ratios.length) parts.push(`Ratios: ${s.ratios.join(' · ')}`, '');
  }
  return parts.join('\n');
}

module.exports = { renderText, renderMarkdown };
