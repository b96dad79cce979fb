import type { Connection } from 'mongoose';
import type { Slice } from '../app';
import { registerRemittanceModel } from './remittance.models';
import { remittancesRoutes } from './remittances.routes';
import { startRemittanceSweeper } from './remittance-sweeper';

export { RemittancesRepository } from './remittance.models';
export type { RemittanceDoc } from './remittance.models';
export { remittanceView } from './remittance.view';
export { sweepRemittances } from './remittance-sweeper';

/** Remittances to charities under pledge agreements, and the charities' acknowledgements (issue 15). */
export const remittancesSlice: Slice = {
  name: 'remittances',
  models: (conn: Connection) => registerRemittanceModel(conn),
  routes: remittancesRoutes,
  background: startRemittanceSweeper,
};
