/**
 * One training run on disk. {@link org.dpsgd.run.TrainingRun} takes a config to a finished run folder
 * ({@link org.dpsgd.run.RunDirectory}: run.json, metrics.jsonl, checkpoints) and resumes a run from its newest
 * checkpoint; {@link org.dpsgd.run.Checkpoints} writes them atomically, {@link org.dpsgd.run.RunLock} keeps a second
 * process out of the folder, {@link org.dpsgd.run.MetricsLog} and {@link org.dpsgd.run.Progress} report as it goes.
 *
 * <p>Privacy rule: a run stops at its planned steps or at its privacy budget, never after, and a resumed run charges
 * every repeated step again, so the ε it reports only grows.
 */
package org.dpsgd.run;
