/**
 * The experiment configuration: one YAML/JSON file read by {@link org.dpsgd.config.ConfigLoader} into an immutable
 * {@link org.dpsgd.config.ExperimentConfig} (data, model, training, optimizer, privacy and backend sections, each a
 * record that validates itself in its constructor). The same file runs unchanged on every backend.
 *
 * <p>Privacy rule: the defaults are the private ones (Poisson sampling, secure noise, no raw diagnostics), and a
 * setting that weakens or voids the ε claim is accepted only when asked for explicitly and then named by
 * {@link org.dpsgd.config.ConfigWarnings}; unknown or invalid keys are refused with a message naming the fix.
 */
package org.dpsgd.config;
