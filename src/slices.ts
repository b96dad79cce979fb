import type { Slice } from './app';
import { catalogSlice } from './catalog';
import { agreementsSlice } from './agreements';
import { recoverySlice } from './recovery';
import { ordersSlice, paymentAnomaliesSlice } from './orders';
import { allocatorSlice } from './allocator';
import { statementsSlice } from './statements';
import { remittancesSlice } from './remittances';
import { feedSlice } from './feed';
import { consoleSlice } from './console';
import { paymentsSlice } from './payments';

/** Every capability of the service, in mount order. */
export const slices: Slice[] = [
  catalogSlice,
  agreementsSlice, // pledge agreements: the catalog's products sell under them
  recoverySlice, // before the orders: its guard refuses order writes while Redis state is rebuilt
  ordersSlice,
  paymentAnomaliesSlice,
  paymentsSlice, // provider adapters: after the orders, whose transitions they drive
  allocatorSlice,
  remittancesSlice,
  statementsSlice,
  feedSlice,
  consoleSlice,
];
