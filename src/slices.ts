import type { Slice } from './app';

/** Every capability of the service, in mount order. */
export const slices: Slice[] = [];
