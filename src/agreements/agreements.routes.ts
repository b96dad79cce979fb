import type { Api } from '../infra/http';
import type { Deps } from '../deps';
import * as S from './agreements.schemas';
import { changeAgreement, listAgreements, proposeAgreement } from './agreements.service';

export function agreementsRoutes(api: Api, deps: Deps): void {
  const tag = 'agreements';
  api.route({ method: 'post', path: '/api/v1/agreements', tag, summary: 'Propose a pledge agreement to a charity (host)', auth: ['host'], body: S.ProposeAgreementBody, responses: { 201: { description: 'proposed', schema: S.Agreement } }, errors: [409] },
    async ({ body, principal }) => ({ status: 201, body: await proposeAgreement(deps, principal!.id, body) }));

  for (const verb of ['accept', 'decline', 'suspend'] as const) {
    api.route({ method: 'post', path: `/api/v1/agreements/:id/${verb}`, tag, summary: `${verb[0].toUpperCase()}${verb.slice(1)} an agreement (the named charity)`, auth: ['charity'], params: S.AgreementParams, responses: { 200: { description: 'the agreement with its new status', schema: S.Agreement } }, errors: [404, 409] },
      async ({ params, principal }) => ({ status: 200, body: await changeAgreement(deps, principal!, params.id, verb) }));
  }

  api.route({ method: 'get', path: '/api/v1/agreements', tag, summary: 'Agreements with their four layers (a host\'s own, a charity\'s own, all for the operator)', auth: ['host', 'charity', 'operator'], query: S.ListAgreementsQuery, responses: { 200: { description: 'the agreements', schema: S.AgreementList } } },
    async ({ query, principal }) => ({ status: 200, body: await listAgreements(deps, principal!, query.status) }));
}
