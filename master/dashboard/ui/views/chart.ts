/**
 * A small uPlot chart of one series over the last hour (a node's cpu or memory). The uPlot instance is
 * made once per mount and fed new data on each render; uPlot draws on a canvas, so a hundred of them
 * stay cheap.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from '../html.js';

/** Props: x in ms since epoch, y in the unit `format` prints. */
export interface SparkProps {
  xs: number[];
  ys: number[];
  /** The y axis' ceiling (allocatable), so charts of one column compare. */
  max?: number;
  color: string;
  label: string;
}

/** A 160×40 chart. */
export function Spark(p: SparkProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  useEffect(() => {
    const opts: uPlot.Options = {
      width: 160,
      height: 40,
      legend: { show: false },
      cursor: { show: false },
      axes: [{ show: false }, { show: false }],
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(p.max ?? 0, max, 1)] } },
      series: [{}, { stroke: p.color, fill: p.color + '33', width: 1, points: { show: false } }],
    };
    plot.current = new uPlot(opts, [[], []], box.current!);
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => {
    plot.current?.setData([p.xs.map((x) => x / 1000), p.ys]);
  }, [p.xs, p.ys]);
  return html`<div class="spark" title=${p.label} data-points=${p.xs.length} ref=${box}></div>`;
}
