package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;

/** Floating-point type of parameters and activations: float32 (default) or float64 (exactness tests). */
enum Precision {
    FLOAT32(DataType.FLOAT32),
    FLOAT64(DataType.FLOAT64);

    final DataType type;

    Precision(DataType type) {
        this.type = type;
    }

    /** Reads setting "dtype" (model settings win over backend settings). */
    static Precision from(Map<String, String> modelSettings, Map<String, String> backendSettings) {
        String v = modelSettings.getOrDefault("dtype", backendSettings.getOrDefault("dtype", "float32"));
        return switch (v.trim().toLowerCase()) {
            case "float32", "fp32", "f32" -> FLOAT32;
            case "float64", "fp64", "f64", "double" -> FLOAT64;
            default -> throw new IllegalArgumentException("setting dtype must be float32 or float64, got '" + v + "'");
        };
    }

    /** Copies {@code len} floats of {@code src} from {@code off} into a new array of this type. */
    NDArray create(NDManager m, float[] src, int off, int len, Shape shape) {
        if (this == FLOAT32) {
            float[] a = new float[len];
            System.arraycopy(src, off, a, 0, len);
            return m.create(a, shape);
        }
        double[] a = new double[len];
        for (int i = 0; i < len; i++) a[i] = src[off + i];
        return m.create(a, shape);
    }

    NDArray create(NDManager m, double[] src, Shape shape) {
        if (this == FLOAT64) return m.create(src, shape);
        float[] a = new float[src.length];
        for (int i = 0; i < src.length; i++) a[i] = (float) src[i];
        return m.create(a, shape);
    }

    /** Copies the array to the host as floats at {@code off} of {@code dst}. */
    static void copyOut(NDArray x, float[] dst, int off) {
        if (x.getDataType() == DataType.FLOAT32) {
            float[] a = x.toFloatArray();
            System.arraycopy(a, 0, dst, off, a.length);
        } else {
            double[] a = x.toType(DataType.FLOAT64, false).toDoubleArray();
            for (int i = 0; i < a.length; i++) dst[off + i] = (float) a[i];
        }
    }

    /** {@code x} in float64 (itself if it already is): clipping arithmetic always runs in float64. */
    static NDArray f64(NDArray x) {
        return x.getDataType() == DataType.FLOAT64 ? x : x.toType(DataType.FLOAT64, false);
    }

    static double[] toDoubles(NDArray x) {
        return x.toType(DataType.FLOAT64, false).toDoubleArray();
    }
}
