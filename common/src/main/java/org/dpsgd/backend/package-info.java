/**
 * The backend SPI: the contract between the backend-neutral trainer and an engine (DJL/PyTorch, Graphcore Poplar).
 * Backends are found with {@link java.util.ServiceLoader} as {@link org.dpsgd.backend.BackendProvider}s and chosen by
 * {@link org.dpsgd.backend.Backends}; an opened {@link org.dpsgd.backend.Backend} creates a
 * {@link org.dpsgd.backend.TrainableModel} that runs one device call at a time on a
 * {@link org.dpsgd.backend.DeviceBatch} shaped by a {@link org.dpsgd.backend.BatchLayout}, clipping per
 * {@link org.dpsgd.backend.ClipPolicy}.
 *
 * <p>Privacy rule: a backend's only privacy-relevant job is the sum over real slots of per-sample gradients each
 * clipped to the policy's bound; padding slots contribute exactly nothing. Noise, scaling, sampling and accounting
 * never happen in a backend, so they are identical on every backend.
 */
package org.dpsgd.backend;
