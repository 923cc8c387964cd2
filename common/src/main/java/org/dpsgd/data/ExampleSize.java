package org.dpsgd.data;

import java.util.Locale;

/**
 * Up-front checks that an example size fits a Java array and the heap, so an image_size of 50000
 * or a synthetic shape of 3x50000x50000 fails at once in one line naming the fix, instead of a
 * {@code NegativeArraySizeException} (an int product that overflowed) or an
 * {@code OutOfMemoryError} after minutes of work.
 */
public final class ExampleSize {
    /** The most elements one Java array may hold (JVMs reserve a few header words below 2^31 - 1). */
    public static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private ExampleSize() {}

    /**
     * C·H·W, computed so that it cannot overflow; throws when it exceeds {@link #MAX_ARRAY}.
     *
     * @param what names the setting in the error, e.g. "data.path 3x50000x50000"
     */
    public static long elements(String what, long channels, long height, long width) {
        double n = (double) channels * height * width;
        if (n > MAX_ARRAY) {
            throw new IllegalArgumentException(what + " makes one example " + channels + "x" + height + "x" + width
                    + " = " + String.format(Locale.ROOT, "%.3g", n) + " values, more than a Java array holds ("
                    + MAX_ARRAY + "); use a smaller size");
        }
        return channels * height * width;
    }

    /** Throws unless {@code bytes} fit in half the Java heap (the rest is the model, batches and the JVM). */
    public static void requireHeap(String what, double bytes, String fix) {
        requireHeap(what, bytes, Runtime.getRuntime().maxMemory(), fix);
    }

    static void requireHeap(String what, double bytes, long maxHeap, String fix) {
        if (bytes > maxHeap / 2.0) {
            throw new IllegalArgumentException(what + " needs about " + gib(bytes)
                    + " of memory, more than half of the " + gib(maxHeap) + " Java heap; " + fix);
        }
    }

    static String gib(double bytes) {
        return bytes >= 1 << 30
                ? String.format(Locale.ROOT, "%.1f GiB", bytes / (1 << 30))
                : String.format(Locale.ROOT, "%.0f MiB", bytes / (1 << 20));
    }
}
