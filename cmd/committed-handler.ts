// A server's answers wait for the group commit they depend on (docs/audit-log.md, "Group commit"):
// with group commit the request's writes and audit entries are in the database's open transaction
// when the route returns, and only acknowledged once that transaction is committed. A request that
// overlapped a group that failed to commit is answered 503, as nothing it saw may have been kept.

import { AppError } from '../core/errors.ts';
import { errorResponse } from '../drivers/http/json-api.ts';
import type { RequestHandler } from '../drivers/http/server.ts';
import type { AuditLog } from '../drivers/store/audit-log.ts';

export function answerWhenCommitted(handler: RequestHandler, audit: Pick<AuditLog, 'committed' | 'failedGroupCount' | 'trackRequest'>): RequestHandler {
  return async (request) => {
    const failedBefore = audit.failedGroupCount;
    const handled = audit.trackRequest();
    let response;
    try {
      response = await handler(request);
    } finally {
      handled();
    }
    try {
      await audit.committed();
    } catch {
      return notStored();
    }
    return audit.failedGroupCount === failedBefore ? response : notStored();
  };
}

function notStored() {
  return errorResponse(new AppError('unavailable', 'store.commit_failed', 'the request could not be stored; send it again'));
}
