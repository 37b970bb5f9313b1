// aggregated_metrics_path with workers > 1 (fluent-plugin-prometheus in_prometheus.rb
// all_workers_metrics + PromMetricsAggregator): every worker's metrics_path, read from
// ports port..port+workers-1, merged so each metric family appears once (one HELP and
// TYPE, the samples of every worker after it; their worker_id label keeps them apart).

import { get } from 'node:http';

/** in_prometheus.rb send_request_to_each_worker: the unspecified addresses are not connectable. */
export function workerHost(bind: string): string {
  if (bind === '0.0.0.0') return '127.0.0.1';
  if (bind === '::') return '::1';
  return bind;
}

/** Merges Prometheus texts family by family, in first-seen order. */
export function aggregateMetrics(texts: readonly string[]): string {
  const families = new Map<string, { meta: string[]; samples: string[] }>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { meta: [], samples: [] }));
    return f;
  };
  for (const text of texts) {
    let current: { meta: string[]; samples: string[] } | undefined;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (meta) {
        current = family(meta[2]!);
        if (!current.meta.some((l) => l.startsWith(`# ${meta[1]} `))) current.meta.push(line);
        continue;
      }
      if (line.startsWith('#')) continue;
      (current ?? family(/^[^{\s]+/.exec(line)![0])).samples.push(line);
    }
  }
  return [...families.values()].map((f) => [...f.meta, ...f.samples].join('\n') + '\n').join('\n');
}

/** GETs `path` from every worker's port; a worker that does not answer 200 is left out (the plugin does the same). */
export async function allWorkersMetrics(host: string, basePort: number, workers: number, path: string): Promise<string> {
  const one = (port: number): Promise<string | undefined> => new Promise((resolve) => {
    const req = get({ host, port, path, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(res.statusCode === 200 ? Buffer.concat(chunks).toString('utf8') : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
  const texts = await Promise.all(Array.from({ length: workers }, (_, i) => one(basePort + i)));
  return aggregateMetrics(texts.filter((t): t is string => t !== undefined));
}
