/**
 * The Gaussian noise of DP-SGD. A {@link org.dpsgd.noise.NoiseSource} adds i.i.d. N(0, std²) to a gradient vector;
 * {@link org.dpsgd.noise.NoiseSources} creates the one privacy.noise names: {@link org.dpsgd.noise.SecureGaussianNoise}
 * (CSPRNG keystream, hardened against floating-point attacks; the default) or
 * {@link org.dpsgd.noise.FastInsecureGaussianNoise} (seeded and reproducible, for public data only).
 *
 * <p>Privacy rule: no noise value is ever used twice (every draw takes a fresh, atomically taken call index and so its
 * own keystream), the secure key never leaves its object, and the insecure source always announces itself.
 */
package org.dpsgd.noise;
