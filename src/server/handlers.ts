/** The typed gRPC handlers: proto in, service call, proto out. Errors are mapped by the call wrapper. */
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { InvalidArgument } from '../bandit/index.js';
import type { LearnLoopServiceServer } from '../gen/learnloop/v1/learnloop.js';
import type { LearnLoop } from '../service/learnloop.js';
import type { RefinementQueue } from '../service/refinement-queue.js';
import type { Unary } from './call.js';
import {
  decideRefinementFromProto,
  decisionToProto,
  observeFromProto,
  observeToProto,
  recommendFromProto,
  refinementStatusFromProto,
  refinementToProto,
  scoresToProto,
  statusFromProto,
  templateToProto,
} from './mapping.js';
import type { Metrics } from './metrics.js';

export interface HandlerDeps {
  readonly learnloop: LearnLoop;
  readonly refinements: RefinementQueue;
  readonly metrics: Metrics | null;
  /** Whether this caller may read failure-reason text (refinement evidence quotes it). */
  readonly mayReadFailureText: (call: ServerUnaryCall<unknown, unknown>) => boolean;
}

const unknownEnum = (field: string, value: number) => new InvalidArgument([{ field, description: `unknown enum value ${value}` }]);

export function handlers(unary: Unary, { learnloop, refinements, metrics, mayReadFailureText }: HandlerDeps): LearnLoopServiceServer {
  return {
    recommend: unary('Recommend', true, async (req) => {
      const event = await learnloop.recommend(recommendFromProto(req));
      metrics?.decision(event.decision.chosen);
      return decisionToProto(event);
    }),
    observe: unary('Observe', true, async (req) => {
      const params = observeFromProto(req);
      const reply = await learnloop.observe(params);
      metrics?.observation(params.outcome, reply.applied ? 'applied' : 'duplicate');
      return observeToProto(reply);
    }),
    registerTemplate: unary('RegisterTemplate', true, async (req) => {
      const s = statusFromProto(req.status);
      if (s === null) throw unknownEnum('status', req.status);
      // Unspecified: a registered template keeps its status (a new one is active); see registerEvents.
      const { record, created } = await learnloop.registerTemplate({ ...req, status: s });
      return { template: templateToProto(record), created };
    }),
    listTemplates: unary('ListTemplates', false, async (req) => {
      const s = statusFromProto(req.status);
      if (s === null) throw unknownEnum('status', req.status);
      const page = await learnloop.listTemplatesPage({ status: s, pageSize: req.pageSize, pageToken: req.pageToken });
      return { templates: page.templates.map(templateToProto), nextPageToken: page.nextPageToken };
    }),
    getScores: unary('GetScores', false, async (req) => scoresToProto(req.taskClass, req.repo, await learnloop.scores(req.taskClass, req.repo))),
    listRefinements: unary('ListRefinements', false, async (req, call) => {
      const s = refinementStatusFromProto(req.status);
      if (s === null) throw unknownEnum('status', req.status);
      const failureText = mayReadFailureText(call);
      return { refinements: (await refinements.list(s)).map((r) => refinementToProto(r, failureText)) };
    }),
    decideRefinement: unary('DecideRefinement', true, async (req) => {
      const d = decideRefinementFromProto(req);
      if (d.kind === 'invalid') throw new InvalidArgument([{ field: d.field, description: d.description }]);
      if (d.kind === 'reject') return { refinement: refinementToProto((await refinements.reject(d.params)).record), template: undefined };
      const { record, template } = await refinements.accept(d.params);
      return { refinement: refinementToProto(record), template: templateToProto(template) };
    }),
  };
}
