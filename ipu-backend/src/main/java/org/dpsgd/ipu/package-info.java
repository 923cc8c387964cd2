/**
 * The Graphcore IPU backend: Java side of the Poplar library in {@code native/}. {@link org.dpsgd.ipu.IpuBackendProvider}
 * reports availability (SDK, native library, attached IPU) and opens the backend; each model is one replicated Poplar
 * graph driven through the native session, laid out by {@link org.dpsgd.ipu.IpuExecutionPlan} and sized by
 * {@link org.dpsgd.ipu.IpuMemoryPlanner} ({@code dpsgd ipu plan}, {@link org.dpsgd.ipu.IpuPlanReport}, needs no IPU);
 * {@link org.dpsgd.ipu.IpuSettings} validates the backend's config keys.
 *
 * <p>Privacy rule: the device clips every slot's gradient, multiplies it by its mask and sums; the summed gradient
 * comes back to the host, where {@code common} adds the noise and accounts, exactly as for every other backend.
 */
package org.dpsgd.ipu;
