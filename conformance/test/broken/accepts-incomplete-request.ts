import { MessageKind, TraceRequest } from '@tracenet/proto';
import { main } from './launch.js';

/**
 * Breaks protocol 12.2: a trace request is not checked for its required content — the node fills
 * what is missing with placeholders and opens the case instead of answering REQUEST_INCOMPLETE.
 */
main('accepts-incomplete-request', (node) => {
  const accept = node.workflow.accept.bind(node.workflow);
  node.workflow.accept = (message, commit) => {
    if (message.kind !== MessageKind.MESSAGE_KIND_TRACE_REQUEST) return accept(message, commit);
    const r = TraceRequest.decode(message.body);
    r.circumstances ??= { kind: 1, date: '2000-01-01', place: 'unknown', agency: '', description: '', circumstance: 0 };
    r.intendedUse ||= 'unspecified';
    if (r.illicitCriteria.length === 0) r.illicitCriteria.push({ kind: 1, legalBasis: 'unspecified' });
    return accept({ ...message, body: TraceRequest.encode(r).finish() }, commit);
  };
});
