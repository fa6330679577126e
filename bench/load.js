'use strict';
/*
 * The load generator, run by run.js as its own process (pinned to the upstream's core).
 * Usage: node bench/load.js '<json options>'; prints one JSON line with the result.
 *
 * Options: url, headers (sent with every request), connections, warmupSec, durationSec, timeoutSec,
 *          rate                  requests per second over all connections (autocannon's overallRate),
 *                                unset for as many as the connections can make,
 *          cpuPids {label: pid}  CPU time sampled right before and right after the measured run,
 *          rssPids {label: pid}  VmRSS sampled every rssIntervalMs during warm-up and measured run.
 */
require('./lib/orphan-guard');
const autocannon = require('autocannon');
const { coreBusy, coreTimes, cpuSeconds, cpusAllowed, memoryKb } = require('./lib/procfs');

function cannon(url, connections, durationSec, timeoutSec, headers, rate) {
  const options = { url, connections, duration: durationSec, pipelining: 1, timeout: timeoutSec, headers };
  if (rate) options.overallRate = rate;
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const cpuPids = opts.cpuPids || {};
  const rssPids = opts.rssPids || {};
  const timeoutSec = opts.timeoutSec || 10;

  const rss = {};
  for (const [label, pid] of Object.entries(rssPids)) {
    const m = memoryKb(pid);
    rss[label] = { beforeKb: m && m.rssKb, peakKb: m && m.rssKb, hwmKb: null, samples: 0 };
  }
  const sampleRss = () => {
    for (const [label, pid] of Object.entries(rssPids)) {
      const m = memoryKb(pid);
      if (!m) continue;
      const r = rss[label];
      r.peakKb = Math.max(r.peakKb || 0, m.rssKb);
      r.hwmKb = m.hwmKb;
      r.samples++;
    }
  };
  const rssTimer = Object.keys(rssPids).length > 0 ? setInterval(sampleRss, opts.rssIntervalMs || 25) : null;

  if (opts.warmupSec > 0) await cannon(opts.url, opts.connections, opts.warmupSec, timeoutSec, opts.headers, opts.rate);

  const before = {};
  for (const [label, pid] of Object.entries(cpuPids)) before[label] = cpuSeconds(pid);
  const cores0 = coreTimes();
  const self0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const result = await cannon(opts.url, opts.connections, opts.durationSec, timeoutSec, opts.headers, opts.rate);
  const wallSec = Number(process.hrtime.bigint() - t0) / 1e9;
  const served = result.requests.total;
  const cpu = {};
  for (const [label, pid] of Object.entries(cpuPids)) {
    const after = cpuSeconds(pid);
    if (before[label] === null || after === null) continue;
    const sec = after - before[label];
    cpu[label] = { sec, usPerReq: served > 0 ? (sec * 1e6) / served : null, utilisation: sec / wallSec };
  }
  const cores = coreBusy(cores0, coreTimes());
  const self = process.cpuUsage(self0);
  const selfSec = (self.user + self.system) / 1e6;
  cpu.loadGenerator = { sec: selfSec, usPerReq: served > 0 ? (selfSec * 1e6) / served : null, utilisation: selfSec / wallSec };
  if (rssTimer) {
    clearInterval(rssTimer);
    sampleRss();
  }

  const durationSec = result.duration;
  process.stdout.write(
    `${JSON.stringify({
      url: opts.url,
      connections: opts.connections,
      durationSec,
      wallSec,
      requests: served,
      reqPerSec: served / durationSec,
      latencyMs: {
        p50: result.latency.p50,
        p99: result.latency.p99,
        mean: result.latency.mean,
        max: result.latency.max,
      },
      bytes: result.throughput.total,
      bytesPerSec: result.throughput.total / durationSec,
      status2xx: result['2xx'],
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      statusCodeStats: result.statusCodeStats,
      cpu,
      rss,
      // Busy fraction of every core over the measured run (ours and anything else running).
      cores,
      loadCpus: cpusAllowed(process.pid),
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`load generator failed: ${error.stack || error}\n`);
    process.exit(1);
  },
);
