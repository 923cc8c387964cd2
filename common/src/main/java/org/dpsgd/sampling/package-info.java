/**
 * Which examples a step uses, and the randomness behind it. {@link org.dpsgd.sampling.PoissonSampler} (the default,
 * and the sampling the accountants assume) and {@link org.dpsgd.sampling.ShuffleSampler} (fixed-size batches, on
 * explicit request only) are {@link org.dpsgd.sampling.BatchSampler}s; their bits come from a
 * {@link org.dpsgd.sampling.RandomSource} chosen by {@link org.dpsgd.sampling.RandomSources}:
 * {@link org.dpsgd.sampling.SecureRandomSource} (ChaCha20 keyed from the JDK's DRBG) or
 * {@link org.dpsgd.sampling.SeededRandomSource}. The keystream generators
 * ({@link org.dpsgd.sampling.ChaChaStream}, {@link org.dpsgd.sampling.AesCtrStream}, both the JDK's javax.crypto ciphers)
 * also feed the secure noise.
 *
 * <p>Privacy rule: amplification by subsampling holds only if nobody can predict a step's batch, so the default
 * randomness is a CSPRNG whose key is never exported or serialised; the predictable modes exist only for labelled
 * fast-insecure runs, and shuffle sampling says loudly that the accountants' ε does not hold for it.
 */
package org.dpsgd.sampling;
