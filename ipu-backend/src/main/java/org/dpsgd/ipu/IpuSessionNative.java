package org.dpsgd.ipu;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.StdString;

/**
 * JavaCPP binding of the native facade {@code dpsgd::ipu::IpuSession} (native/include/dpsgd_ipu/IpuSession.hpp).
 * The JNI glue is generated and compiled only in the Maven profile {@code ipu} (active when
 * POPLAR_SDK_ENABLED is set), against libdpsgd_ipu built by native/CMakeLists.txt. Without it this class
 * still compiles; loading it fails, which {@link IpuAvailability} reports. C++ exceptions surface as
 * RuntimeException carrying the exception's message (JavaCPP's default translation).
 *
 * <p>Buffers follow {@link org.dpsgd.backend.DeviceBatch}: {@code calls} consecutive device calls, each of
 * R·A·m slots in {@link org.dpsgd.backend.BatchLayout#slot} order; inputs [slots, K, C, H, W] float32,
 * labels int32, mask float32 (1 real, 0 padding).
 *
 * <p>It implements {@link IpuSession}, the calls the model makes, so that tests can put a Java
 * stand-in in its place; the interface adds no native method, so the generated JNI glue is unchanged.
 */
@Platform(include = "dpsgd_ipu/IpuSession.hpp", link = "dpsgd_ipu")
@Namespace("dpsgd::ipu")
@Name("IpuSession")
public class IpuSessionNative extends Pointer implements IpuSession {
    /** Builds (or loads from the executable cache), compiles and loads the graph onto attached IPUs. */
    public IpuSessionNative(String modelSpec, String options) {
        allocate(modelSpec, options);
    }

    private native void allocate(@StdString String modelSpec, @StdString String options);

    public native @Cast("size_t") long parameterCount();

    public native void loadParameters(@Const float[] params, @Cast("size_t") long count);

    public native void saveParameters(float[] params, @Cast("size_t") long count);

    /** Trainable (not frozen) parameter tensors T; the clip table holds 2·T values ({@link ClipTable}). */
    public native @Cast("size_t") long trainableTensors();

    /**
     * Runs {@code calls} device calls, adding each real slot's clipped gradient to the on-device sum;
     * {@code clipTable} holds each trainable tensor's bound, then its clip group id ({@link ClipTable}).
     */
    public native void runSteps(
            @Const float[] inputs,
            @Const int[] labels,
            @Const float[] mask,
            @Cast("size_t") long calls,
            @Const float[] clipTable,
            @Cast("size_t") long clipTableSize);

    /** Forward only: loss and correct count of the real slots go to the metrics. */
    public native void evaluate(
            @Const float[] inputs, @Const int[] labels, @Const float[] mask, @Cast("size_t") long calls);

    /** Copies the cross-replica clipped sum into {@code out} and zeroes it on the device. */
    public native void drainGradientSum(float[] out, @Cast("size_t") long count);

    /** Unclipped per-slot gradient norms of the last runSteps call (slots of its last call). */
    public native void lastSlotNorms(float[] out, @Cast("size_t") long count);

    /** {samples, loss sum, correct, clipped, norm sum, non-finite} since the last read; resets them. */
    public native void readMetrics(double[] out, @Cast("size_t") long count);

    /** Device-update mode only: adds the streamed noise, scales, and takes the SGD-momentum step on the IPU. */
    public native void applyUpdate(@Const float[] noise, @Cast("size_t") long count, float learningRate, float scale);

    public native void close();

    public static native int deviceCount();

    public static native @StdString String attachError();
}
