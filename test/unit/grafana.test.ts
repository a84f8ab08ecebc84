/**
 * docs/grafana-dashboard.json reads only metrics the master exports: every series name in its queries is
 * a family of the master's registry (a histogram's `_bucket` included), so the dashboard cannot drift from
 * the code unnoticed.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Telemetry } from '../../master/telemetry/registry.js';
import { registerResourceMetrics } from '../../master/telemetry/resources.js';
import { instrumentStore } from '../../master/telemetry/store.js';
import type { Informers } from '../../master/informer.js';
import { MetricsStore } from '../../master/metrics.js';
import type { Store } from '../../master/store/types.js';

describe('the Grafana dashboard', () => {
  it('queries only metrics the master exports', () => {
    const t = new Telemetry();
    registerResourceMetrics(t, { informers: { list: () => [] } as unknown as Informers, metrics: new MetricsStore(), clientsByRole: () => new Map(), engine: 'wasm' });
    instrumentStore({ revision: async () => 0, create: async () => ({}), update: async () => ({}), delete: async () => ({}) } as unknown as Store, t, 'sqlite');
    const names = new Set<string>();
    for (const m of t.registry.getMetricsAsArray()) {
      const { name, type } = m as unknown as { name: string; type: string };
      names.add(name);
      if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    }
    const dash = JSON.parse(readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8'));
    const exprs: string[] = dash.panels.flatMap((p: { targets?: { expr: string }[] }) => (p.targets ?? []).map((x) => x.expr));
    expect(exprs.length).toBeGreaterThan(20);
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b([a-z_][a-z0-9_]*)\{/g)].map((m) => m[1])));
    const unknown = [...used].filter((n) => !names.has(n));
    expect(unknown).toEqual([]);
  });
});
