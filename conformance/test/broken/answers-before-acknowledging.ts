import { CaseState } from '@tracenet/proto';
import { main } from './launch.js';

/**
 * Breaks protocol 12.3: an officer may answer a request that was never acknowledged — the node
 * moves a RECEIVED case straight on and sends the answer without any acknowledgement.
 */
main('answers-before-acknowledging', (node) => {
  const answer = node.workflow.answer.bind(node.workflow);
  node.workflow.answer = async (caseId, input, automatic) => {
    const c = await node.workflow.get(caseId);
    if (c.state === CaseState.CASE_STATE_RECEIVED) {
      c.state = CaseState.CASE_STATE_ACKNOWLEDGED;
      await node.store.batch(await node.store.cases.put(c));
    }
    return answer(caseId, input, automatic);
  };
});
