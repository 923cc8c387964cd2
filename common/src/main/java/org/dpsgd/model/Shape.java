package org.dpsgd.model;

/** Per-sample tensor shape [channels, height, width] (no batch axis). Flat vectors are [n, 1, 1]. */
public record Shape(int channels, int height, int width) {
    public Shape {
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException(
                    "shape dimensions must be positive, got " + channels + "x" + height + "x" + width);
        }
    }

    /** Number of scalars in one sample: channels · height · width. */
    public int size() {
        return channels * height * width;
    }

    /** Parses "CxHxW", e.g. "3x32x32". */
    public static Shape parse(String text) {
        String[] p = text.trim().toLowerCase().split("x");
        if (p.length != 3) throw new IllegalArgumentException("shape must be CxHxW (e.g. 3x32x32), got '" + text + "'");
        try {
            return new Shape(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("shape must be CxHxW (e.g. 3x32x32), got '" + text + "'", e);
        }
    }

    @Override
    public String toString() {
        return channels + "x" + height + "x" + width;
    }
}
