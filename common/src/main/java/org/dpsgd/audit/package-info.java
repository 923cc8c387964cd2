/**
 * Empirical privacy auditing from one training run (Steinke, Nasr &amp; Jagielski, NeurIPS 2023):
 * {@link org.dpsgd.audit.PrivacyAudit} is the bound, usable on its own with scores and coins from anywhere
 * ({@link org.dpsgd.audit.GuessRule} says how scores become guesses, {@link org.dpsgd.audit.AuditResult} is the
 * outcome); {@link org.dpsgd.audit.GradientCanaries} are white-box Dirac canaries that plug into the trainer as
 * {@link org.dpsgd.train.ExtraExamples}; {@link org.dpsgd.audit.WhiteBoxAudit} trains a run with them and scores them
 * from the released parameters ({@link org.dpsgd.audit.CanaryObserver}, {@link org.dpsgd.audit.CanaryScore});
 * {@link org.dpsgd.audit.AuditFile} writes the run folder's audit.json. The maths: docs/audit.md.
 *
 * <p>Privacy rule: the canaries' coins are drawn before training from a secure generator and are written only to
 * the audit file; the audit result is a release about the canaries, never mixed into the model's metrics. The
 * bound is a lower bound on ε, never a proof of privacy.
 */
package org.dpsgd.audit;
