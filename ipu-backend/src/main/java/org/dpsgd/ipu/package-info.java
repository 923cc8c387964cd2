/**
 * The Graphcore IPU backend: Java side of the Poplar library in {@code native/}. {@link org.dpsgd.ipu.IpuBackendProvider}
 * reports availability (SDK, native library, attached IPU) and opens the backend; each model is one replicated Poplar
 * graph driven through the native session, laid out by {@link org.dpsgd.ipu.IpuExecutionPlan} and sized by
 * {@link org.dpsgd.ipu.IpuMemoryPlanner} ({@code dpsgd ipu plan}, {@link org.dpsgd.ipu.IpuPlanReport}, needs no IPU),
 * which refuses layouts that do not fit one IPU per replica and, through {@link org.dpsgd.ipu.IpuPipelinePlanner},
 * proposes a pipeline split (planned, not implemented); {@link org.dpsgd.ipu.IpuSettings} validates the backend's
 * config keys (replicas a power of two, fp16 loss scale).
 *
 * <p>Privacy rule: the device clips every slot's gradient, multiplies it by its mask and sums; the summed gradient
 * comes back to the host, where {@code common} adds the noise and accounts, exactly as for every other backend. Flat
 * and per-layer clipping ({@code ClipPolicy}) reach the device as a clip table each call; padding and examples whose
 * gradient norm is not finite are dropped by selection (never by multiplying with 0, which keeps NaN); norms, factors
 * and products are fp32 with every bound lowered by a proven 2^-10 rounding margin, so no example's clipped gradient,
 * as summed, exceeds its bound.
 */
package org.dpsgd.ipu;
