/**
 * The Gaussian noise of DP-SGD. A {@link org.dpsgd.noise.NoiseSource} adds i.i.d. N(0, std²) to a gradient vector;
 * {@link org.dpsgd.noise.NoiseSources} creates the one privacy.noise names: {@link org.dpsgd.noise.SecureGaussianNoise}
 * (CSPRNG keystream, hardened against floating-point attacks; the default) or
 * {@link org.dpsgd.noise.FastInsecureGaussianNoise} (seeded and reproducible, for public data only). Draws are split
 * into chunks with their own keystreams and spread over a {@link org.dpsgd.noise.NoisePool} of a chosen size; the values
 * do not depend on the pool. {@link org.dpsgd.noise.NoiseThroughput} times secure noise alone ({@code dpsgd bench --noise-only}).
 *
 * <p>Privacy rule: no noise value is ever used twice (every draw takes a fresh, atomically taken call index and so its
 * own keystream), the secure key never leaves its object, and the insecure source always announces itself.
 */
package org.dpsgd.noise;
