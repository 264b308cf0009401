import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { JobData } from '../api/documents.js';
import { duration } from '../format.js';
import { HISTORY_WINDOW_MS, percentile, startLatencies, type Sample } from '../state/history.js';

type Data = uPlot.AlignedData;

/** A uPlot chart that follows its container's width and takes new data without being rebuilt. */
function Chart(props: { label: string; options: Omit<uPlot.Options, 'width' | 'height'>; data: Data }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const size = () => ({ width: element.clientWidth || 300, height: 160 });
    const chart = new uPlot({ legend: { show: false }, ...props.options, ...size() }, props.data, element);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize(size()));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => plot.current?.setData(props.data), [props.data]);
  return <div class="chart" ref={box} aria-label={props.label} />;
}

const seconds = (ms: number) => ms / 1000;

function stepSeries(label: string, stroke: string): uPlot.Series {
  return { label, stroke, fill: `${stroke}22`, width: 2, paths: uPlot.paths.stepped?.({ align: 1 }) };
}

/** busy nets and queue length over the last hour, sampled in the page */
export function PoolCharts(props: { samples: readonly Sample[]; netCount: number }) {
  const x = props.samples.map((s) => seconds(s.at));
  const lastHour = (): uPlot.Range.MinMax => [seconds(Date.now() - HISTORY_WINDOW_MS), seconds(Date.now())];
  const scales = { x: { time: true, range: lastHour } };
  return (
    <div class="charts">
      <figure>
        <figcaption>Nets busy (of {props.netCount}), last hour</figcaption>
        <Chart
          key={props.netCount}
          label="nets busy over time"
          options={{
            scales: { ...scales, y: { range: () => [0, Math.max(1, props.netCount)] } },
            series: [{}, stepSeries('busy', '#c2410c')],
          }}
          data={[x, props.samples.map((s) => s.busyNets)]}
        />
      </figure>
      <figure>
        <figcaption>Queue length, last hour</figcaption>
        <Chart
          label="queue length over time"
          options={{
            scales: { ...scales, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
            series: [{}, stepSeries('queued', '#1d4ed8')],
          }}
          data={[x, props.samples.map((s) => s.queueLength)]}
        />
      </figure>
    </div>
  );
}

/** each start's latency (queued → started) over the jobs in view, with p50 / p95 / p99 */
export function LatencyChart(props: { jobs: Iterable<JobData> }) {
  const points = startLatencies(props.jobs);
  const values = points.map((p) => p.ms);
  const p = (n: number) => percentile(values, n);
  const [p50, p95, p99] = [p(50), p(95), p(99)];
  // the percentile lines span the axis: one point a minute before the first start and one after the last
  const xs = points.length
    ? [seconds(points[0].at) - 60, ...points.map((pt) => seconds(pt.at)), seconds(points.at(-1)!.at) + 60]
    : [];
  const latency = points.length ? [null, ...values.map(seconds), null] : [];
  const line = (v: number | null) => xs.map(() => (v === null ? null : seconds(v)));
  return (
    <figure>
      <figcaption data-latency>
        Start latency over {points.length} started job{points.length === 1 ? '' : 's'} in view: p50{' '}
        {p50 === null ? '—' : duration(p50)} · p95 {p95 === null ? '—' : duration(p95)} · p99 {p99 === null ? '—' : duration(p99)}
      </figcaption>
      <Chart
        label="start latency"
        options={{
          scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
          axes: [{}, { values: (_u, ticks) => ticks.map((t) => `${t} s`) }],
          series: [
            {},
            {
              label: 'start latency (s)',
              stroke: '#0f766e',
              width: 0,
              paths: () => null,
              points: { show: true, size: 6, fill: '#0f766e' },
            },
            { label: 'p50', stroke: '#16a34a', dash: [4, 4] },
            { label: 'p95', stroke: '#ca8a04', dash: [4, 4] },
            { label: 'p99', stroke: '#dc2626', dash: [4, 4] },
          ],
        }}
        data={[xs, latency, line(p50), line(p95), line(p99)]}
      />
    </figure>
  );
}
