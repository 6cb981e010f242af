// `npm run bench`: runs every benchmark, prints the figures and records them in bench/README.md between
// the results markers. Each figure is a ratio against a baseline measured in the same run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchFigure } from './harness';
import * as directory from './directory.bench';
import * as jams from './jams.bench';
import * as metrics from './metrics.bench';
import * as pki from './pki.bench';
import * as users from './users.bench';

const SUITES: Record<string, { run(): Promise<BenchFigure[]> }> = {
  pki,
  jams,
  directory,
  dht: require('./dht.bench'),
  users,
  metrics,
};

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const rows: string[] = [];
  for (const [suite, mod] of Object.entries(SUITES)) {
    if (only.length && !only.includes(suite)) continue;
    console.log(`# ${suite}`);
    for (const f of await mod.run()) {
      console.log(
        `${f.name}: ${fmt(f.value)} ${f.unit} | baseline ${f.baseline.name}: ${fmt(f.baseline.value)} ${f.baseline.unit} | ratio ${f.ratio.toFixed(3)}${f.note ? ` | ${f.note}` : ''}`,
      );
      rows.push(
        `| ${suite} | ${f.name} | ${fmt(f.value)} ${f.unit} | ${f.baseline.name}: ${fmt(f.baseline.value)} ${f.baseline.unit} | **${f.ratio.toFixed(3)}** | ${f.note ?? ''} |`,
      );
    }
  }
  const file = path.join(__dirname, 'README.md');
  const text = fs.readFileSync(file, 'utf8');
  const table = [
    `Last run: ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}.`,
    '',
    '| suite | figure | value | baseline (same run) | ratio | note |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
  const updated = text.replace(
    /<!-- results:start -->[\s\S]*<!-- results:end -->/,
    `<!-- results:start -->\n${table}\n<!-- results:end -->`,
  );
  if (!only.length) fs.writeFileSync(file, updated);
}

void main();
