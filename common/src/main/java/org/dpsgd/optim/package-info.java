/**
 * Optimizers over the flat parameter vector, applied on the host after the noise: {@link org.dpsgd.optim.Sgd} and
 * {@link org.dpsgd.optim.Adam} (PyTorch's update rules), built by {@link org.dpsgd.optim.Optimizers} from the config,
 * with the {@link org.dpsgd.optim.LearningRateSchedule} and the {@link org.dpsgd.optim.TrainableMask} of frozen
 * parameters; {@link org.dpsgd.optim.OptimizerState} is what a checkpoint keeps.
 *
 * <p>Privacy rule: an optimizer sees only the noisy, scaled gradient (post-processing, so it costs no privacy), and
 * frozen coordinates get no noise and are never updated, not even by weight decay.
 */
package org.dpsgd.optim;
