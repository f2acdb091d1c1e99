// A latency-percentile plot as a standalone SVG, written by the bench itself (no plotting library):
// x is the percentile on the usual "nines" scale (50, 90, 99, 99.9: log of 1 / (1 − p)), y the
// latency in milliseconds on a linear scale from 0. One line per series, with its points marked.

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];
const DASHES = ['', '6 4'];

const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const nines = (p) => Math.log10(1 / (1 - p));

/** A round step for an axis running to `max`: 1, 2 or 5 × a power of ten, about 5 ticks. */
function step(max) {
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
}

/**
 * series: [{ label, points: [[p (0..1), milliseconds], ...], color?, dashed? }]. Returns the SVG text.
 */
export function percentilePlot({ title, subtitle = '', series, width = 760, height = 440 }) {
  const margin = { left: 64, right: 24, top: subtitle ? 58 : 40, bottom: 56 + 18 * Math.ceil(series.length / 2) };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const ps = [...new Set(series.flatMap((s) => s.points.map(([p]) => p)))].sort((a, b) => a - b);
  const xMin = nines(ps[0]);
  const xMax = nines(ps[ps.length - 1]);
  const yTop = Math.max(...series.flatMap((s) => s.points.map(([, v]) => v)).filter(Number.isFinite), 0.001);
  const yStep = step(yTop);
  const yMax = Math.ceil(yTop / yStep) * yStep;
  const x = (p) => margin.left + ((nines(p) - xMin) / (xMax - xMin || 1)) * plotW;
  const y = (v) => margin.top + plotH - (v / yMax) * plotH;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`);
  if (subtitle) out.push(`<text x="${width / 2}" y="38" text-anchor="middle" fill="#444">${escape(subtitle)}</text>`);
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    out.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${margin.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${+v.toFixed(3)}</text>`);
  }
  for (const p of ps) {
    out.push(`<line x1="${x(p).toFixed(1)}" x2="${x(p).toFixed(1)}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${x(p).toFixed(1)}" y="${margin.top + plotH + 16}" text-anchor="middle">p${+(p * 100).toFixed(2)}</text>`);
  }
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${margin.left + plotW / 2}" y="${margin.top + plotH + 34}" text-anchor="middle">percentile</text>`);
  out.push(`<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">latency (ms)</text>`);
  series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length];
    const dash = s.dashed ? DASHES[1] : DASHES[0];
    const points = s.points.filter(([, v]) => Number.isFinite(v));
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${points.map(([p, v]) => `${x(p).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`);
    for (const [p, v] of points) out.push(`<circle cx="${x(p).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${color}"><title>${escape(`${s.label}: p${+(p * 100).toFixed(2)} ${v.toFixed(3)} ms`)}</title></circle>`);
    const lx = margin.left + (i % 2) * (plotW / 2);
    const ly = margin.top + plotH + 52 + 18 * Math.floor(i / 2);
    out.push(`<line x1="${lx}" x2="${lx + 28}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    out.push(`<text x="${lx + 34}" y="${ly}">${escape(s.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
