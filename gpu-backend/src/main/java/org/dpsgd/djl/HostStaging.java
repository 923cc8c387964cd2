package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.dpsgd.backend.DeviceBatch;

/**
 * Hands a batch's inputs to PyTorch with one copy: from the {@link DeviceBatch}'s float array
 * straight into a native-order direct buffer that the engine wraps without copying again (DJL
 * copies any other buffer, and a Java array twice). Padding slots are written as zeros whatever
 * their buffers hold, so NaN or Inf there cannot reach the sum through 0 * NaN.
 *
 * <p>Buffers are reused: a buffer is handed out again only once the array made from it has been
 * closed (the tensor borrows the buffer's memory, so overwriting it earlier would change a live
 * input). Arrays still open get a new buffer; at most {@link #KEPT} are kept for reuse, any
 * beyond that are one-off. One model runtime uses this from one thread at a time.
 */
final class HostStaging {
    static final int KEPT = 4;

    private static final class Slot {
        ByteBuffer buffer;
        NDArray user;
    }

    private final List<Slot> slots = new ArrayList<>();
    private final float[] zeros = new float[4096];

    /** Inputs of slots [from, from+count) with all their copies, [count*K, C, H, W], in {@code type}. */
    NDArray inputs(NDManager manager, DataType type, DeviceBatch b, int from, int count) {
        org.dpsgd.model.Shape s = b.shape();
        int perSlot = b.multiplicity() * s.size();
        int len = Math.multiplyExact(count, perSlot);
        boolean f32 = type == DataType.FLOAT32;
        if (!f32 && type != DataType.FLOAT64)
            throw new IllegalArgumentException("inputs are float32 or float64, not " + type);
        Slot slot = free(Math.multiplyExact(len, f32 ? 4 : 8));
        ByteBuffer buf = slot.buffer;
        float[] src = b.inputs();
        if (f32) {
            FloatBuffer out = buf.asFloatBuffer();
            for (int i = 0; i < count; i++) {
                int off = b.inputOffset(from + i, 0);
                if (b.mask()[from + i] != 0f) out.put(src, off, perSlot);
                else putZeros(out, perSlot);
            }
        } else {
            DoubleBuffer out = buf.asDoubleBuffer();
            for (int i = 0; i < count; i++) {
                int off = b.inputOffset(from + i, 0);
                boolean real = b.mask()[from + i] != 0f;
                for (int j = 0; j < perSlot; j++) out.put(real ? src[off + j] : 0.0);
            }
        }
        NDArray x = manager.create(
                buf, new Shape((long) count * b.multiplicity(), s.channels(), s.height(), s.width()), type);
        slot.user = x;
        return x;
    }

    /** Buffers kept for reuse (tests check that closed arrays give theirs back). */
    int kept() {
        return slots.size();
    }

    private void putZeros(FloatBuffer out, int n) {
        while (n > 0) {
            int k = Math.min(n, zeros.length);
            out.put(zeros, 0, k);
            n -= k;
        }
    }

    /** A buffer of at least {@code bytes} whose last array is closed, positioned at 0 with limit {@code bytes}. */
    private Slot free(int bytes) {
        Slot pick = null;
        for (Slot s : slots) {
            if (s.user == null || s.user.isReleased()) {
                pick = s;
                if (s.buffer.capacity() >= bytes) break;
            }
        }
        if (pick == null) {
            pick = new Slot();
            if (slots.size() < KEPT) slots.add(pick);
        }
        if (pick.buffer == null || pick.buffer.capacity() < bytes)
            pick.buffer = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
        pick.user = null;
        pick.buffer.clear().limit(bytes);
        return pick;
    }
}
