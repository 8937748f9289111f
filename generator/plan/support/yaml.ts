import yaml from 'js-yaml';

const FIRST = ['apiVersion', 'kind', 'metadata'];

/** apiVersion, kind, metadata first (as kubectl prints them), then the rest in name order. */
function keyOrder(a: string, b: string): number {
  const ia = FIRST.indexOf(a);
  const ib = FIRST.indexOf(b);
  if (ia !== -1 || ib !== -1) return (ia === -1 ? FIRST.length : ia) - (ib === -1 ? FIRST.length : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Typed objects → YAML documents, deterministically (sorted keys, fixed width, no anchors). */
export function toYaml(docs: object[], header?: string): string {
  const body = docs
    .map((d) => yaml.dump(d, { sortKeys: keyOrder, lineWidth: 120, noRefs: true, quotingType: '"' }))
    .join('---\n');
  return header ? `${header}\n${body}` : body;
}
