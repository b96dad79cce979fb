import type { Slice } from '../app';
import { readStreamTotals, totalsChannel } from '../allocator';
import { attachFeedGateway } from './feed.gateway';
import { mountOverlay } from './overlay.routes';

export { attachFeedGateway, closeCodes } from './feed.gateway';
export type { FeedGateway, GatewayOptions } from './feed.gateway';
export { FeedHub } from './feed.hub';
export type { TotalsReader, FeedSocket } from './feed.hub';

/** The live feed: WebSocket totals at /ws/streams/:id and the OBS overlay page at /overlay/:streamId. */
export const feedSlice: Slice = {
  name: 'feed',
  mount: (app, deps) => mountOverlay(app, (id) => readStreamTotals(deps, id)),
  attach: (server, deps) => attachFeedGateway(server, deps, { reader: (id) => readStreamTotals(deps, id), channel: totalsChannel(deps) }),
};
