-- 0008: the inbox reads tasks in review most late first, a batch at a time (Store.signOffsWaiting).
-- Without this index a signer of many programs had every task in review of them read and sorted on each request.
CREATE INDEX task_in_review_due ON accord.task (due_on, id) WHERE state = 'in_review';
