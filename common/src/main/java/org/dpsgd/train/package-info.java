/**
 * The DP-SGD training loop. {@link org.dpsgd.train.PrivateTraining} is the entry point: from a config and a dataset it
 * opens the backend, builds the model, calibrates σ and builds a {@link org.dpsgd.train.DpSgdTrainer}, whose
 * {@code step()} is Algorithm 1 of Abadi et al.: sample, charge the {@link org.dpsgd.train.PrivacyBudget}
 * (write-ahead), clip and sum on the backend, add noise, divide by q·N ({@link org.dpsgd.train.DpSgdStep}) and update.
 * The mechanism's parameters are one value ({@link org.dpsgd.train.DpMechanism}); each step returns a
 * {@link org.dpsgd.train.StepResult}, and {@link org.dpsgd.train.TrainerState} is what a checkpoint keeps.
 *
 * <p>Privacy rule: a step is charged to the durable ledger before its noisy gradient exists, a step that would exceed
 * the target ε is never taken, and the update is divided by the expected batch size q·N, never the realised size.
 */
package org.dpsgd.train;
