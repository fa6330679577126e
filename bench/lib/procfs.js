'use strict';
/* Per-process CPU time and memory from /proc (Linux). Every function returns null elsewhere. */
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');

let clockTicks = null;

/** USER_HZ, the unit of utime/stime in /proc/<pid>/stat (100 almost everywhere). */
function clkTck() {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** user+system CPU seconds of every thread of the process so far, from /proc/<pid>/stat. */
function cpuSeconds(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]); // field 14
  const stime = Number(fields[12]); // field 15
  return (utime + stime) / clkTck();
}

/** { rssKb, hwmKb } from /proc/<pid>/status (VmRSS and VmHWM). */
function memoryKb(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const field = (name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
}

module.exports = { clkTck, cpuSeconds, memoryKb };

/** The CPU list the process may run on (Cpus_allowed_list), to record the pinning. */
function cpusAllowed(pid) {
  try {
    const m = /^Cpus_allowed_list:\s+(\S+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? m[1] : null;
  } catch {
    return null;
  }
}

/** TCP ports the process listens on: its socket inodes matched against /proc/net/tcp{,6}. */
function listeningPorts(pid) {
  const inodes = new Set();
  let fds;
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // the fd closed meanwhile
    }
  }
  const ports = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9])) ports.push(parseInt(f[1].split(':')[1], 16));
    }
  }
  return ports;
}

/** Per-core { busy, total } jiffies from /proc/stat, keyed 'cpu0', 'cpu1', ... */
function coreTimes() {
  let text;
  try {
    text = fs.readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^(cpu\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2].split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const idle = v[3] + v[4];
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out[m[1]] = { busy: total - idle, total };
  }
  return out;
}

/** Busy fraction of each core between two coreTimes() readings. */
function coreBusy(before, after) {
  if (!before || !after) return null;
  const out = {};
  for (const core of Object.keys(after)) {
    if (!before[core]) continue;
    const total = after[core].total - before[core].total;
    out[core] = total > 0 ? (after[core].busy - before[core].busy) / total : null;
  }
  return out;
}

module.exports.cpusAllowed = cpusAllowed;
module.exports.coreTimes = coreTimes;
module.exports.coreBusy = coreBusy;
module.exports.listeningPorts = listeningPorts;
