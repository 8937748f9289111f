import type { Lab } from '../../model/defaults.js';

/**
 * Grafana dashboards of the lab, kept small: the cluster (kubelet, cAdvisor), the Pis (their
 * node exporters) and Slurm (labgen's exporter beside slurmctld). Seed 003 showed these three.
 */

interface Query {
  expr: string;
  legend: string;
}

interface Panel {
  title: string;
  kind: 'timeseries' | 'stat';
  unit: string;
  queries: Query[];
}

export const DATASOURCE_UID = 'prometheus';

/** Grafana's dashboard JSON model: panels two per row, 12 columns wide, 8 rows high. */
function dashboard(uid: string, title: string, panels: Panel[]): object {
  return {
    uid,
    title,
    tags: ['labgen'],
    editable: false,
    schemaVersion: 39,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    panels: panels.map((p, i) => ({
      id: i + 1,
      type: p.kind,
      title: p.title,
      gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
      datasource: { type: 'prometheus', uid: DATASOURCE_UID },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      targets: p.queries.map((q, j) => ({
        refId: String.fromCharCode(65 + j),
        datasource: { type: 'prometheus', uid: DATASOURCE_UID },
        expr: q.expr,
        legendFormat: q.legend,
      })),
    })),
  };
}

function clusterDashboard(): object {
  return dashboard('labgen-cluster', 'Cluster', [
    { title: 'Nodes up', kind: 'stat', unit: 'none', queries: [{ expr: 'sum(up{job="kubelet"})', legend: 'nodes' }] },
    { title: 'Running pods per node', kind: 'timeseries', unit: 'none', queries: [{ expr: 'sum by (node) (kubelet_running_pods)', legend: '{{node}}' }] },
    {
      title: 'CPU per node (cores)',
      kind: 'timeseries',
      unit: 'none',
      queries: [{ expr: 'sum by (node) (rate(container_cpu_usage_seconds_total{job="cadvisor",id="/"}[5m]))', legend: '{{node}}' }],
    },
    {
      title: 'Memory per node',
      kind: 'timeseries',
      unit: 'bytes',
      queries: [{ expr: 'sum by (node) (container_memory_working_set_bytes{job="cadvisor",id="/"})', legend: '{{node}}' }],
    },
    {
      title: 'CPU per namespace (cores)',
      kind: 'timeseries',
      unit: 'none',
      queries: [{ expr: 'sum by (namespace) (rate(container_cpu_usage_seconds_total{job="cadvisor",container!=""}[5m]))', legend: '{{namespace}}' }],
    },
    {
      title: 'Memory per namespace',
      kind: 'timeseries',
      unit: 'bytes',
      queries: [{ expr: 'sum by (namespace) (container_memory_working_set_bytes{job="cadvisor",container!=""})', legend: '{{namespace}}' }],
    },
  ]);
}

function pisDashboard(lab: Lab): object {
  const nic = lab.pis.interface;
  return dashboard('labgen-pis', 'Raspberry Pis', [
    { title: 'Pis up', kind: 'stat', unit: 'none', queries: [{ expr: 'sum(up{job="pis"})', legend: 'up' }] },
    {
      title: 'CPU busy',
      kind: 'timeseries',
      unit: 'percent',
      queries: [{ expr: '100 * (1 - avg by (node) (rate(node_cpu_seconds_total{job="pis",mode="idle"}[5m])))', legend: '{{node}}' }],
    },
    {
      title: 'Memory used',
      kind: 'timeseries',
      unit: 'percent',
      queries: [{ expr: '100 * (1 - node_memory_MemAvailable_bytes{job="pis"} / node_memory_MemTotal_bytes{job="pis"})', legend: '{{node}}' }],
    },
    { title: 'SoC temperature', kind: 'timeseries', unit: 'celsius', queries: [{ expr: 'max by (node) (node_thermal_zone_temp{job="pis"})', legend: '{{node}}' }] },
    {
      title: 'Root file system free',
      kind: 'timeseries',
      unit: 'bytes',
      queries: [{ expr: 'node_filesystem_avail_bytes{job="pis",mountpoint="/"}', legend: '{{node}}' }],
    },
    {
      title: `Network (${nic})`,
      kind: 'timeseries',
      unit: 'Bps',
      queries: [
        { expr: `rate(node_network_receive_bytes_total{job="pis",device="${nic}"}[5m])`, legend: '{{node}} in' },
        { expr: `rate(node_network_transmit_bytes_total{job="pis",device="${nic}"}[5m])`, legend: '{{node}} out' },
      ],
    },
  ]);
}

function slurmDashboard(): object {
  return dashboard('labgen-slurm', 'Slurm', [
    { title: 'Exporter reaches slurmctld', kind: 'stat', unit: 'none', queries: [{ expr: 'max(slurm_up)', legend: 'up' }] },
    { title: 'Nodes by state', kind: 'timeseries', unit: 'none', queries: [{ expr: 'sum by (state) (slurm_nodes)', legend: '{{state}}' }] },
    { title: 'CPUs', kind: 'timeseries', unit: 'none', queries: [{ expr: 'sum by (state) (slurm_cpus)', legend: '{{state}}' }] },
    { title: 'Jobs by state', kind: 'timeseries', unit: 'none', queries: [{ expr: 'sum by (state) (slurm_jobs)', legend: '{{state}}' }] },
  ]);
}

/** File name → dashboard JSON (2-space indent, sorted as written: deterministic). */
export function dashboards(lab: Lab): Record<string, string> {
  const all: Record<string, object> = { 'cluster.json': clusterDashboard(), 'pis.json': pisDashboard(lab) };
  if (lab.slurm) all['slurm.json'] = slurmDashboard();
  return Object.fromEntries(Object.entries(all).map(([name, d]) => [name, `${JSON.stringify(d, null, 2)}\n`]));
}
