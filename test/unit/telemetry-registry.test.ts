/** The master's metrics registry (master/telemetry/registry.ts): tallies kept outside prom-client reach its counters when read. */
import { afterEach, describe, expect, it } from 'vitest';
import { Telemetry } from '../../master/telemetry/registry.js';

describe('the events counter', () => {
  let t: Telemetry | undefined;
  afterEach(() => t?.registry.clear());

  it('counts each occurrence by type and reason once, whenever it is read (scrape or get)', async () => {
    t = new Telemetry();
    t.countEvent('Normal', 'Scheduled', 1);
    t.countEvent('Normal', 'Scheduled', 1);
    t.countEvent('Warning', 'BackOff', 3);
    const values = async () => Object.fromEntries((await t!.events.get()).values.map((v) => [`${v.labels.type} ${v.labels.reason}`, v.value]));
    expect(await values()).toEqual({ 'Normal Scheduled': 2, 'Warning BackOff': 3 });
    expect(await values()).toEqual({ 'Normal Scheduled': 2, 'Warning BackOff': 3 }); // read twice: not counted twice
    t.countEvent('Normal', 'Scheduled', 1);
    expect(await t.scrape()).toMatch(/^skiff_events_total\{type="Normal",reason="Scheduled"\} 3$/m);
  });
});
