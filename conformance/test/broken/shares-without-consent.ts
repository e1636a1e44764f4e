import { main } from './launch.js';

/**
 * Breaks protocol 14.3: the node shares restricted information with a third participant without
 * the provider's consent — it behaves as if a consent for that participant had been granted.
 */
main('shares-without-consent', (node) => {
  const share = node.workflow.shareCase.bind(node.workflow);
  node.workflow.shareCase = async (caseId, third, note) => {
    const c = await node.workflow.get(caseId);
    if (!c.consents.some((x) => x.thirdParticipant === third && x.granted)) {
      const now = Date.now();
      c.consents.push({
        consentId: 'assumed',
        thirdParticipant: third,
        reason: '',
        requestedAtMs: now,
        decidedAtMs: now,
        granted: true,
        conditions: '',
      });
      await node.store.batch(await node.store.cases.put(c));
    }
    return share(caseId, third, note);
  };
});
