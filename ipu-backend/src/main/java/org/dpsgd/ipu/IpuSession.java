package org.dpsgd.ipu;

/**
 * The native session calls {@link IpuTrainableModel} makes, so that a Java stand-in can replace the
 * Poplar graph in tests that run without an IPU (the coupling margin's wiring: the clip table each
 * call sends, the drains). {@link IpuSessionNative} is the implementation; its JavaCPP signatures are
 * these, unchanged. Buffers and semantics are those documented there.
 */
interface IpuSession {
    long parameterCount();

    long trainableTensors();

    void loadParameters(float[] params, long count);

    void saveParameters(float[] params, long count);

    void runSteps(float[] inputs, int[] labels, float[] mask, long calls, float[] clipTable, long clipTableSize);

    void evaluate(float[] inputs, int[] labels, float[] mask, long calls);

    void drainGradientSum(float[] out, long count);

    void lastSlotNorms(float[] out, long count);

    void readMetrics(double[] out, long count);

    /** Releases the device (the native facade's close). */
    void close();

    /** Frees the native object (JavaCPP's Pointer.deallocate). */
    void deallocate();
}
