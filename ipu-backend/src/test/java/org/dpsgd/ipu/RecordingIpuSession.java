package org.dpsgd.ipu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A Java stand-in for the native session ({@link IpuSession}) that records what the model sends and
 * keeps the device's clipped sum in float32, as the graph does: each real slot's "gradient" is a fixed
 * function of its first input value (g_s[i] = x_s·(1 + i·2^−12)), clipped flat to the table's first
 * bound in float32 and added slot by slot to the float32 sum, which a drain copies out and zeroes.
 * It checks wiring (which table, how many drains, where the sums go), not gradients.
 */
final class RecordingIpuSession implements IpuSession {
    private final long parameters;
    private final long trainableTensors;
    private final float[] sum;
    private float[] stored;
    /** The clip table of every runSteps call, in order. */
    final List<float[]> tables = new ArrayList<>();
    /** The device sum as each runSteps call found it (before adding its slots). */
    final List<float[]> sumAtCallStart = new ArrayList<>();
    /** Every drain's output, in order. */
    final List<float[]> drains = new ArrayList<>();
    /** "run" / "drain" in the order the model called them. */
    final List<String> calls = new ArrayList<>();

    boolean closed;
    boolean deallocated;
    private int lastSamples;

    RecordingIpuSession(long parameters, long trainableTensors) {
        this.parameters = parameters;
        this.trainableTensors = trainableTensors;
        this.sum = new float[Math.toIntExact(parameters)];
        this.stored = new float[sum.length];
    }

    @Override
    public long parameterCount() {
        return parameters;
    }

    @Override
    public long trainableTensors() {
        return trainableTensors;
    }

    @Override
    public void loadParameters(float[] params, long count) {
        stored = Arrays.copyOf(params, (int) count);
    }

    @Override
    public void saveParameters(float[] params, long count) {
        System.arraycopy(stored, 0, params, 0, (int) count);
    }

    @Override
    public void runSteps(float[] inputs, int[] labels, float[] mask, long calls, float[] clipTable, long size) {
        if (calls != 1 || size != clipTable.length || size != 2 * trainableTensors)
            throw new IllegalArgumentException("calls " + calls + ", table size " + size);
        this.calls.add("run");
        tables.add(clipTable.clone());
        sumAtCallStart.add(sum.clone());
        int slots = mask.length;
        int perSlot = inputs.length / slots;
        float bound = clipTable[0];
        float[] g = new float[sum.length];
        lastSamples = 0;
        for (int s = 0; s < slots; s++) {
            if (mask[s] == 0f) continue;
            lastSamples++;
            float x = inputs[s * perSlot];
            double sq = 0;
            for (int i = 0; i < g.length; i++) {
                g[i] = x * (1f + i * 0x1p-12f);
                sq += (double) g[i] * g[i];
            }
            float factor = (float) Math.min(1.0, bound / Math.sqrt(sq));
            for (int i = 0; i < g.length; i++) sum[i] += factor * g[i] * mask[s]; // float32, slot by slot
        }
    }

    @Override
    public void evaluate(float[] inputs, int[] labels, float[] mask, long calls) {
        lastSamples = 0;
        for (float v : mask) if (v != 0f) lastSamples++;
    }

    @Override
    public void drainGradientSum(float[] out, long count) {
        calls.add("drain");
        System.arraycopy(sum, 0, out, 0, (int) count);
        drains.add(Arrays.copyOf(sum, (int) count));
        Arrays.fill(sum, 0f);
    }

    @Override
    public void lastSlotNorms(float[] out, long count) {
        Arrays.fill(out, 0, (int) count, 0f);
    }

    @Override
    public void readMetrics(double[] out, long count) {
        Arrays.fill(out, 0, (int) count, 0.0);
        out[0] = lastSamples;
        lastSamples = 0;
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public void deallocate() {
        deallocated = true;
    }

    /** The device's float32 sum now (not drained). */
    float[] deviceSum() {
        return sum.clone();
    }
}
