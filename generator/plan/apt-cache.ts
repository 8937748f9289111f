import type { PiPlanner } from './pi-part.js';

// placeholder: being written (issue #3)
export const aptCache: PiPlanner = () => ({});
