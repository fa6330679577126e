'use strict';

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function ratio(a, b) {
  return typeof a === 'number' && typeof b === 'number' && b !== 0 ? a / b : null;
}

module.exports = { median, ratio };
