import type { Slice } from './app';
import { catalogSlice } from './catalog';

/** Every capability of the service, in mount order. */
export const slices: Slice[] = [
  catalogSlice,
];
