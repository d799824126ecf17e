/**
 * `GET /metrics` (with METRICS=1): sess's OpenTelemetry metrics (`@sess/opentelemetry`) read on
 * demand and written in the Prometheus text format, with nothing but the OpenTelemetry SDK.
 */
import { DataPointType, MeterProvider, MetricReader, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { instrumentSessions } from "@sess/opentelemetry";

/** A reader that exports nothing by itself: the route collects when scraped. */
class ScrapeReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

export interface Metrics {
  /** The current values in the Prometheus text format (version 0.0.4). */
  render(): Promise<string>;
  close(): Promise<void>;
}

export function createMetrics(): Metrics {
  const reader = new ScrapeReader();
  const provider = new MeterProvider({ readers: [reader] });
  const instrumentation = instrumentSessions({ meterProvider: provider, spans: false });
  return {
    async render() {
      const { resourceMetrics } = await reader.collect();
      return prometheusText(resourceMetrics);
    },
    async close() {
      instrumentation.close();
      await provider.shutdown();
    },
  };
}

const UNITS: Record<string, string> = { s: "_seconds", ms: "_milliseconds", By: "_bytes" };

function metricName(name: string, unit: string): string {
  return name.replace(/[^a-zA-Z0-9_:]/g, "_") + (UNITS[unit] ?? "");
}

function labels(attributes: Record<string, unknown>, extra: Array<[string, string]> = []): string {
  const pairs = [
    ...Object.entries(attributes).map(([key, value]) => [key.replace(/[^a-zA-Z0-9_]/g, "_"), String(value)] as const),
    ...extra,
  ];
  if (pairs.length === 0) return "";
  const escape = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
  return `{${pairs.map(([key, value]) => `${key}="${escape(value)}"`).join(",")}}`;
}

function prometheusText(resource: ResourceMetrics): string {
  const lines: string[] = [];
  for (const scope of resource.scopeMetrics) {
    for (const metric of scope.metrics) {
      const { descriptor } = metric;
      const base = metricName(descriptor.name, descriptor.unit);
      if (metric.dataPointType === DataPointType.HISTOGRAM) {
        lines.push(`# HELP ${base} ${descriptor.description}`, `# TYPE ${base} histogram`);
        for (const point of metric.dataPoints) {
          const { buckets, sum = 0, count } = point.value;
          let cumulative = 0;
          buckets.boundaries.forEach((boundary, i) => {
            cumulative += buckets.counts[i] ?? 0;
            lines.push(`${base}_bucket${labels(point.attributes, [["le", String(boundary)]])} ${cumulative}`);
          });
          lines.push(`${base}_bucket${labels(point.attributes, [["le", "+Inf"]])} ${count}`);
          lines.push(`${base}_sum${labels(point.attributes)} ${sum}`, `${base}_count${labels(point.attributes)} ${count}`);
        }
      } else {
        const counter = metric.dataPointType === DataPointType.SUM && metric.isMonotonic;
        const name = counter ? `${base}_total` : base;
        lines.push(`# HELP ${name} ${descriptor.description}`, `# TYPE ${name} ${counter ? "counter" : "gauge"}`);
        for (const point of metric.dataPoints) lines.push(`${name}${labels(point.attributes)} ${point.value as number}`);
      }
    }
  }
  return `${lines.join("\n")}\n`;
}
