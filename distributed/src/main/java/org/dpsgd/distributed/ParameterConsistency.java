package org.dpsgd.distributed;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks that every rank holds bit-identical parameters: rank 0 broadcasts a 64-bit fingerprint of its
 * parameters' bits, each rank compares, and one allreduce tells every rank which ranks differ, so all
 * stop together with the same error. Two tiny collectives plus one pass over the parameters.
 */
public final class ParameterConsistency {
    private final Communicator comm;

    public ParameterConsistency(Communicator comm) {
        this.comm = comm;
    }

    /** Collective: throws IllegalStateException on every rank when any rank's parameters differ from rank 0's. */
    public void check(long step, float[] parameters) {
        long mine = fingerprint(parameters);
        byte[] root = ByteBuffer.allocate(8).putLong(mine).array();
        comm.broadcast(root, 0);
        long reference = ByteBuffer.wrap(root).getLong();
        double[] differs = new double[comm.size()];
        if (mine != reference) differs[comm.rank()] = 1;
        comm.allreduceSum(differs);
        List<Integer> bad = new ArrayList<>();
        for (int r = 0; r < differs.length; r++) if (differs[r] != 0) bad.add(r);
        if (!bad.isEmpty()) {
            throw new IllegalStateException(
                    "parameters diverged across ranks at step " + step + ": rank(s) " + bad + " differ from rank 0 "
                            + "(fingerprint " + Long.toHexString(reference) + " on rank 0"
                            + (mine != reference ? ", " + Long.toHexString(mine) + " here" : "")
                            + "); every rank must apply the same update, so this is a bug or a faulty device: stopping");
        }
    }

    /** A 64-bit hash of the raw float bits in order (any single changed bit changes it, with overwhelming probability). */
    public static long fingerprint(float[] p) {
        long h = 0x243F6A8885A308D3L ^ p.length;
        for (float v : p) {
            h = (h ^ Float.floatToRawIntBits(v)) * 0x9E3779B97F4A7C15L;
            h ^= h >>> 29;
        }
        return h;
    }
}
