import { it } from 'vitest';
import { generateLab } from '../support/generated.js';
it('gen', async () => {
for (const [f, o] of [['labs/rpi-slurm/lab.yaml', {}], ['labs/minimal/lab.yaml', {cluster:{cni:'calico'}}], ['labs/minimal/lab.yaml', {cluster:{cni:'cilium', kubernetesVersion: '1.34.2'}}]] as const) {
  const g = await generateLab(f, o as any);
  console.log(g.dir, g.files.filter(x=>x.kind==='vm').map(x=>x.path+':'+x.mode.toString(8)).join(' '));
}
});
