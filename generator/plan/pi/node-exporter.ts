import type { PiPlanner } from './part.js';

/** Prometheus' node exporter on every Pi (port 9100), scraped by the lab's monitoring. */
export const nodeExporter: PiPlanner = () => ({
  packages: ['prometheus-node-exporter'],
  services: ['prometheus-node-exporter'],
});
