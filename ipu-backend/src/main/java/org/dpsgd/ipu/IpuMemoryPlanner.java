package org.dpsgd.ipu;

import java.util.List;
import java.util.Locale;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;

/**
 * Rough per-IPU memory estimate of one replica of the NanoBatch DP-SGD graph, against an IPU Mk2's
 * In-Processor memory (1,472 tiles x 624 KiB, about 900 MB). It answers "does this model and micro-batch
 * fit on one IPU?" before spending an hour compiling; the real figure comes from the Poplar compiler's
 * memory report. Heuristics (documented in docs/ipu.md):
 * <ul>
 *   <li>weights: fp32 master copy + a compute copy in fp16 mode + the gradients of one micro-batch
 *       (per-sample: m copies, since every sample's gradient must exist before its norm is known) +
 *       the fp32 clipped-sum accumulator + fp32 momentum when the update runs on the device;</li>
 *   <li>activations kept for backward, for m·K samples: what the native backward pass refers to (a
 *       convolution's or linear layer's input, a GroupNorm's whitened input, an activation's output, a
 *       max-pool's input and output). The graph has no recomputation, so all of them count; the figure
 *       with recomputation (top-level tensors plus the largest block's internals) is shown for reference;</li>
 *   <li>temporaries: the largest layer's input + output gradients in flight, times two, plus (DP, fp16)
 *       the fp32 copy of the per-sample gradients that norms and products are computed from (in fp32 the
 *       products are formed in place);</li>
 *   <li>code, vertex state and exchange: 30 KiB per tile plus 0.75 MiB per convolution/matmul pass and
 *       0.25 MiB per other op pass;</li>
 *   <li>only 85% of the memory is counted as usable (tile imbalance, fragmentation).</li>
 * </ul>
 */
public final class IpuMemoryPlanner {
    public static final int MK2_TILES = 1472;
    public static final long MK2_BYTES_PER_TILE = 624L * 1024;
    public static final long MK2_BYTES = MK2_TILES * MK2_BYTES_PER_TILE;
    static final double USABLE_FRACTION = 0.85;
    static final long CODE_PER_TILE = 30L * 1024;
    static final long CODE_PER_MATMUL_PASS = 768L * 1024;
    static final long CODE_PER_OTHER_PASS = 256L * 1024;

    /**
     * FITS; NEEDS_SMALLER_MICRO_BATCH (with the largest m that fits; the graph has no recomputation, so
     * a layout that would fit only with it is refused this way); NEEDS_PIPELINING (not even m = 1 fits).
     */
    public enum Verdict {
        FITS,
        NEEDS_SMALLER_MICRO_BATCH,
        NEEDS_PIPELINING
    }

    /**
     * @param privateTraining per-sample gradients (DP-SGD) rather than one summed gradient (non-private baseline)
     * @param deviceUpdate momentum kept on the device
     */
    public record Request(
            Network network,
            int microBatchSize,
            int multiplicity,
            Precision precision,
            boolean privateTraining,
            boolean deviceUpdate) {
        public Request {
            if (network == null) throw new IllegalArgumentException("network is required");
            if (microBatchSize <= 0)
                throw new IllegalArgumentException("micro-batch size must be > 0, got " + microBatchSize);
            if (multiplicity <= 0)
                throw new IllegalArgumentException("augmentation multiplicity must be > 0, got " + multiplicity);
            if (precision == null) throw new IllegalArgumentException("precision is required (fp16 or fp32)");
        }

        Request withMicroBatch(int m) {
            return new Request(network, m, multiplicity, precision, privateTraining, deviceUpdate);
        }
    }

    public record Estimate(
            Request request,
            long parameters,
            long weightBytes,
            long activationBytes,
            long recomputeActivationBytes,
            long temporaryBytes,
            long codeBytes,
            long capacityBytes,
            Verdict verdict,
            int largestFittingMicroBatch) {
        public long totalBytes() {
            return weightBytes + activationBytes + temporaryBytes + codeBytes;
        }

        public long totalWithRecomputationBytes() {
            return weightBytes + recomputeActivationBytes + temporaryBytes + codeBytes;
        }

        public String advice() {
            return switch (verdict) {
                case FITS -> "fits on one IPU Mk2 per replica";
                case NEEDS_SMALLER_MICRO_BATCH ->
                    "does not fit (the graph has no activation recomputation); use micro_batch_size <= "
                            + largestFittingMicroBatch + " and raise accumulation to keep the batch";
                case NEEDS_PIPELINING ->
                    "does not fit on one IPU even at micro-batch 1: needs pipelining over several IPUs per "
                            + "replica (planned by dpsgd ipu plan, not implemented by this backend)";
            };
        }

        public String render() {
            StringBuilder sb = new StringBuilder();
            Request r = request;
            sb.append(String.format(
                    Locale.ROOT,
                    "model %s, input %s, micro-batch %d, multiplicity %d, %s, %s%n",
                    r.network().name(),
                    r.network().input(),
                    r.microBatchSize(),
                    r.multiplicity(),
                    r.precision().label(),
                    r.privateTraining() ? "DP-SGD (per-sample gradients)" : "non-private"));
            sb.append(String.format(Locale.ROOT, "parameters           %,d%n", parameters));
            sb.append(String.format(Locale.ROOT, "weights and grads    %s%n", mb(weightBytes)));
            sb.append(String.format(
                    Locale.ROOT,
                    "activations          %s (%s with recomputation, which the graph does not implement)%n",
                    mb(activationBytes),
                    mb(recomputeActivationBytes)));
            sb.append(String.format(Locale.ROOT, "temporaries          %s%n", mb(temporaryBytes)));
            sb.append(String.format(Locale.ROOT, "code and exchange    %s%n", mb(codeBytes)));
            sb.append(String.format(
                    Locale.ROOT,
                    "total                %s of %s usable (IPU Mk2: %d tiles x 624 KiB = %s)%n",
                    mb(totalBytes()),
                    mb(capacityBytes),
                    MK2_TILES,
                    mb(MK2_BYTES)));
            sb.append(String.format(
                    Locale.ROOT,
                    "host streams         parameters, gradients and noise in %d chunk(s) of at most 128 MB each%n",
                    streamChunks(parameters)));
            sb.append("verdict              ")
                    .append(verdict)
                    .append(": ")
                    .append(advice())
                    .append('\n');
            return sb.toString();
        }

        static String mb(long bytes) {
            return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
        }
    }

    public enum Precision {
        FP16(2, "fp16 (fp32 master weights and accumulator)"),
        FP32(4, "fp32");

        final int bytes;
        final String label;

        Precision(int bytes, String label) {
            this.bytes = bytes;
            this.label = label;
        }

        public String label() {
            return label;
        }

        public static Precision parse(String s) {
            return switch (s == null ? "" : s) {
                case "fp16" -> FP16;
                case "fp32" -> FP32;
                default -> throw new IllegalArgumentException("IPU precision must be fp16 or fp32, got '" + s + "'");
            };
        }
    }

    private IpuMemoryPlanner() {}

    public static Estimate estimate(Request r) {
        Estimate e = estimateOnly(r);
        Verdict v;
        int largest = 0;
        long usable = usable();
        if (e.totalBytes() <= usable) {
            v = Verdict.FITS;
            largest = r.microBatchSize();
        } else {
            for (int m = r.microBatchSize() - 1; m >= 1; m--) {
                if (estimateOnly(r.withMicroBatch(m)).totalBytes() <= usable) {
                    largest = m;
                    break;
                }
            }
            v = largest > 0 ? Verdict.NEEDS_SMALLER_MICRO_BATCH : Verdict.NEEDS_PIPELINING;
        }
        return new Estimate(
                r,
                e.parameters(),
                e.weightBytes(),
                e.activationBytes(),
                e.recomputeActivationBytes(),
                e.temporaryBytes(),
                e.codeBytes(),
                usable,
                v,
                largest);
    }

    /** Poplar's limit on one stream buffer (DataStream documentation); native/ splits P floats into this many streams. */
    public static final long MAX_STREAM_BYTES = 128_000_000L;

    /** Streams needed for P fp32 values (as native/src/SessionOptions.cpp streamChunks splits them). */
    public static long streamChunks(long parameters) {
        return Math.max(1, (4 * parameters + MAX_STREAM_BYTES - 1) / MAX_STREAM_BYTES);
    }

    static long usable() {
        return (long) (MK2_BYTES * USABLE_FRACTION);
    }

    private static Estimate estimateOnly(Request r) {
        Network net = r.network();
        long p = net.parameterCount();
        long b = r.precision().bytes;
        long samples = (long) r.microBatchSize() * r.multiplicity();
        long weights = 4 * p; // fp32 master weights
        if (r.precision() == Precision.FP16) weights += 2 * p; // compute copy
        weights += (r.privateTraining() ? r.microBatchSize() : 1) * p * b; // gradients of one micro-batch
        weights += 4 * p; // fp32 clipped-sum accumulator
        if (r.deviceUpdate()) weights += 4 * p; // fp32 momentum

        Walk w = new Walk();
        Shape out = w.walk(net.layers(), net.input(), true);
        long checkpointed = w.topLevelOutputs + net.input().size() + w.largestBlockInternal;
        long activations = w.kept * samples * b;
        long recompute = Math.min(activations, checkpointed * samples * b);
        long temps = 2 * w.largestLive * samples * b;
        // DP in fp16: the fp32 copy of the per-sample gradients (norms and products in fp32); fp32 works in place.
        if (r.privateTraining() && r.precision() == Precision.FP16) temps += (long) r.microBatchSize() * p * 4;
        long code = MK2_TILES * CODE_PER_TILE
                + 3 * w.matmulOps * CODE_PER_MATMUL_PASS
                + 2 * w.otherOps * CODE_PER_OTHER_PASS;
        assert out.size() == net.numClasses();
        return new Estimate(r, p, weights, activations, recompute, temps, code, usable(), Verdict.FITS, 0);
    }

    /**
     * Walks the layer tree counting, per sample, the activation elements the backward pass of the native
     * graph refers to (so they stay live): a convolution's or linear layer's input (weight delta), a
     * GroupNorm's whitened input, an activation's output (its input gradient is computed from the output),
     * a max-pool's input and output. A tensor shared by two consumers is counted once.
     */
    static final class Walk {
        long kept;
        long topLevelOutputs;
        long largestBlockInternal;
        long largestLive;
        long matmulOps;
        long otherOps;
        private boolean currentKept;

        Shape walk(List<Layer> layers, Shape in, boolean topLevel) {
            Shape s = in;
            for (Layer l : layers) {
                Shape out = l.outputShape(s);
                if (l instanceof Layer.Residual res) {
                    long before = kept;
                    boolean inputKept = currentKept;
                    walk(res.main(), s, false);
                    currentKept = inputKept;
                    walk(res.shortcut(), s, false);
                    largestBlockInternal = Math.max(largestBlockInternal, kept - before);
                    currentKept = false; // the sum is a new tensor; nothing in backward needs it
                    otherOps++;
                } else if (l instanceof Layer.Conv2d || l instanceof Layer.Linear) {
                    keepInput(s);
                    currentKept = false;
                    matmulOps++;
                } else if (l instanceof Layer.GroupNorm) {
                    kept += s.size(); // whitened activations (a new tensor)
                    currentKept = false;
                    otherOps++;
                } else if (l instanceof Layer.Activation) {
                    kept += out.size();
                    currentKept = true;
                    otherOps++;
                } else if (l instanceof Layer.MaxPool2d) {
                    keepInput(s);
                    kept += out.size();
                    currentKept = true;
                    otherOps++;
                } else if (l instanceof Layer.GlobalAvgPool) {
                    currentKept = false; // a new tensor; its backward needs only the shape
                    otherOps++;
                } else {
                    otherOps++; // flatten: a view of the same tensor
                }
                if (topLevel) topLevelOutputs += out.size();
                largestLive = Math.max(largestLive, (long) s.size() + out.size());
                s = out;
            }
            return s;
        }

        private void keepInput(Shape s) {
            if (!currentKept) kept += s.size();
            currentKept = true;
        }
    }
}
