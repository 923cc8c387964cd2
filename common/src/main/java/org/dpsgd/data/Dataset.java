package org.dpsgd.data;

import org.dpsgd.model.Shape;

/**
 * A labelled image dataset with random access. Pixels come out as floats, already normalised the
 * way the dataset's reader documents (e.g. per-channel mean/std). Implementations must be safe for
 * concurrent {@link #read} calls from loader threads.
 */
public interface Dataset {
    /** Number of examples N (the dataset size the accountant uses for training data). */
    int size();

    /** Shape [C, H, W] of every example. */
    Shape shape();

    /** Number of classes; every label is in [0, numClasses). */
    int numClasses();

    /** Class label of example {@code index}, in [0, numClasses). */
    int label(int index);

    /** Writes example {@code index} ([C, H, W] row-major) into {@code dst} at {@code offset}. */
    void read(int index, float[] dst, int offset);

    /**
     * For datasets that store uint8 pixels: per channel, the float that {@link #read} writes for
     * each byte value, so that {@code read} equals {@code tables[c][bytes[i] & 0xFF]} over
     * {@link #readBytes}; null (the default) for any other dataset. Augmentation uses it to crop and
     * flip while converting, in one pass. The arrays must not be modified.
     */
    default float[][] byteTables() {
        return null;
    }

    /**
     * The raw uint8 [C, H, W] pixels of example {@code index} into {@code dst}; only for datasets
     * whose {@link #byteTables()} is not null.
     */
    default void readBytes(int index, byte[] dst) {
        throw new UnsupportedOperationException(describe() + " has no byte pixels");
    }

    /** Human-readable origin for provenance and errors, e.g. the file path. */
    default String describe() {
        return getClass().getSimpleName();
    }
}
