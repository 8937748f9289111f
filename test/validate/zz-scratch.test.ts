import { it } from 'vitest';
import { generateLab } from '../support/generated.js';
it('gen', async () => { const g = await generateLab('labs/minimal/lab.yaml'); console.log(g.dir); });
