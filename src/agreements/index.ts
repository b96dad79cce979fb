import type { Slice } from '../app';
import { registerAgreementModels } from './agreement.models';
import { agreementsRoutes } from './agreements.routes';
import { migrateLegacyPledges } from './agreement-state';

export * from './agreement.types';
export { agreementLayers } from './layers';
export { AgreementsRepository } from './agreements.repository';
export { agreementView, listAgreements } from './agreements.service';
export { agreementEventTypes, parseAgreementEvent, AgreementEventSchema } from './agreement.events';
export type { AgreementEvent, AgreementEventType } from './agreement.events';
export { restoreAgreementState, capHeld, migrateLegacyPledges } from './agreement-state';
export type { CapOrder } from './agreement-state';

/** Pledge agreements (issue 15, orders side): proposals, the charity's answer, and the migration of older pledges at start. */
export const agreementsSlice: Slice = {
  name: 'agreements',
  models: registerAgreementModels,
  routes: agreementsRoutes,
  background: async (deps) => {
    await migrateLegacyPledges(deps);
    return { stop: async () => undefined };
  },
};
