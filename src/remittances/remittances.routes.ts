import type { Api } from '../infra/http';
import type { Deps } from '../deps';
import * as S from './remittances.schemas';
import { createRemittance } from './create-remittance';
import { answerRemittance } from './answer-remittance';

export function remittancesRoutes(api: Api, deps: Deps): void {
  const tag = 'remittances';

  api.route({
    method: 'post', path: '/api/v1/remittances', tag, auth: ['host'], body: S.CreateRemittanceBody, errors: [404, 409, 422, 503],
    summary: 'The seller records a remittance to the charity under its own accepted agreement; it covers the agreement\'s confirmed, unremitted donations oldest first',
    responses: { 201: { description: 'recorded (status sent)', schema: S.Remittance } },
  }, async ({ body, principal }) => ({ status: 201, body: await createRemittance(deps, principal!.id, body) }));

  api.route({
    method: 'post', path: '/api/v1/remittances/:id/acknowledge', tag, auth: ['charity'], params: S.IdParams, errors: [404, 409, 503],
    summary: 'The agreement\'s charity acknowledges it received a remittance (once)',
    responses: { 200: { description: 'acknowledged', schema: S.Remittance } },
  }, async ({ params, principal }) => ({ status: 200, body: await answerRemittance(deps, principal!.id, params.id, { outcome: 'acknowledged' }) }));

  api.route({
    method: 'post', path: '/api/v1/remittances/:id/dispute', tag, auth: ['charity'], params: S.IdParams, body: S.DisputeBody, errors: [404, 409, 422, 503],
    summary: 'The agreement\'s charity disputes a remittance, with its reason (once)',
    responses: { 200: { description: 'disputed', schema: S.Remittance } },
  }, async ({ params, body, principal }) => ({ status: 200, body: await answerRemittance(deps, principal!.id, params.id, { outcome: 'disputed', reason: body.reason }) }));
}
