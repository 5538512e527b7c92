// A seeded source of uniform numbers in [0, 1) for tests that generate cases, so a failing
// case can be replayed from its seed: the simulator's own mulberry32 (sim/prng.ts).
import { Rng as SimRng } from '../../sim/index.js';

export type Rng = () => number;

export function rng(seed: number): Rng {
  const r = new SimRng(seed);
  return () => r.next();
}
