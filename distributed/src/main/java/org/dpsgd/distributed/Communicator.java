package org.dpsgd.distributed;

/**
 * The collectives a data-parallel run needs among its W processes ("ranks" 0..W-1). Every rank must make
 * the same calls in the same order with the same lengths (the MPI rule). Implemented over MPI
 * ({@link MpiCommunicator}) and over threads of one JVM ({@link InProcessGroup}, for tests).
 */
public interface Communicator extends AutoCloseable {
    /** This process's rank in [0, {@link #size()}). */
    int rank();

    /** W, the number of processes of the run. */
    int size();

    /** Replaces {@code data} by its element-wise sum over all ranks (the same array length on every rank). */
    void allreduceSum(float[] data);

    /** Replaces {@code data} by its element-wise sum over all ranks (the same array length on every rank). */
    void allreduceSum(double[] data);

    /** Copies {@code root}'s {@code data} into every rank's {@code data} (the same length on every rank). */
    void broadcast(byte[] data, int root);

    /** Copies {@code root}'s {@code data} into every rank's {@code data} (the same length on every rank). */
    void broadcast(float[] data, int root);

    /** Returns once every rank has called it. */
    void barrier();

    /**
     * Stops every rank of the run at once with exit code {@code code} (after this rank has printed why).
     * Does not return.
     */
    void abort(int code);

    /** Library and transport, for provenance (e.g. "Open MPI v4.1.4"). */
    String describe();

    /** Rank 0's bytes on every rank, whatever length they have (the length goes first). */
    default byte[] broadcastFromRoot(byte[] onRoot) {
        return broadcastFrom(onRoot, 0);
    }

    /** Rank {@code root}'s bytes on every rank, whatever length they have (the length goes first). */
    default byte[] broadcastFrom(byte[] onRoot, int root) {
        byte[] len = new byte[8];
        if (rank() == root) java.nio.ByteBuffer.wrap(len).putLong(onRoot.length);
        broadcast(len, root);
        long n = java.nio.ByteBuffer.wrap(len).getLong();
        if (n > Integer.MAX_VALUE - 16)
            throw new IllegalStateException("broadcast of " + n + " bytes is above a Java array's limit");
        byte[] data = rank() == root ? onRoot : new byte[(int) n];
        broadcast(data, root);
        return data;
    }

    /** Every rank's bytes on every rank, in rank order (one broadcast from each rank: for small, rare exchanges). */
    default java.util.List<byte[]> allgather(byte[] mine) {
        java.util.List<byte[]> all = new java.util.ArrayList<>(size());
        for (int r = 0; r < size(); r++) all.add(broadcastFrom(rank() == r ? mine : null, r));
        return all;
    }

    /** Ends this rank's part in the run (MPI_Finalize); collective. */
    @Override
    void close();
}
