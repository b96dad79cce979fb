import type { Slice } from '../app';
import { consoleRoutes } from './console.routes';
import { mountConsoles } from './console.pages';

/** The host and charity consoles (/console/host, /console/charity) and the few read routes they need. */
export const consoleSlice: Slice = { name: 'console', routes: consoleRoutes, mount: (app) => mountConsoles(app) };
