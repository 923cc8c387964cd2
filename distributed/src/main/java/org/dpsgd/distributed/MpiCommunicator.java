package org.dpsgd.distributed;

/**
 * {@link Communicator} over MPI_COMM_WORLD through the JavaCPP binding ({@link MpiNative}). Obtain it with
 * {@link Mpi#open()}. MPI is initialised with MPI_THREAD_FUNNELED: every call must come from the thread that
 * opened it, which this class checks (a call from another thread would be undefined behaviour in MPI).
 */
public final class MpiCommunicator implements Communicator {
    private final Thread owner = Thread.currentThread();
    private final int rank;
    private final int size;
    private final String version;
    private boolean closed;

    MpiCommunicator() {
        check(MpiNative.dpsgd_mpi_init(), "MPI_Init_thread");
        this.rank = MpiNative.dpsgd_mpi_rank();
        this.size = MpiNative.dpsgd_mpi_size();
        String v = MpiNative.dpsgd_mpi_library_version();
        this.version = v == null ? "MPI" : v.lines().findFirst().orElse("MPI").trim();
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public String describe() {
        return version;
    }

    @Override
    public void allreduceSum(float[] data) {
        ready();
        check(MpiNative.dpsgd_mpi_allreduce_sum_float(data, data.length), "MPI_Allreduce(float, " + data.length + ")");
    }

    @Override
    public void allreduceSum(double[] data) {
        ready();
        check(
                MpiNative.dpsgd_mpi_allreduce_sum_double(data, data.length),
                "MPI_Allreduce(double, " + data.length + ")");
    }

    @Override
    public void broadcast(byte[] data, int root) {
        ready();
        check(MpiNative.dpsgd_mpi_broadcast_bytes(data, data.length, root), "MPI_Bcast(bytes, " + data.length + ")");
    }

    @Override
    public void broadcast(float[] data, int root) {
        ready();
        check(MpiNative.dpsgd_mpi_broadcast_float(data, data.length, root), "MPI_Bcast(float, " + data.length + ")");
    }

    @Override
    public void barrier() {
        ready();
        check(MpiNative.dpsgd_mpi_barrier(), "MPI_Barrier");
    }

    @Override
    public void abort(int code) {
        System.err.flush();
        System.out.flush();
        MpiNative.dpsgd_mpi_abort(code);
        // MPI_Abort returned (it should not): make sure this process at least ends.
        Runtime.getRuntime().halt(code);
    }

    @Override
    public void close() {
        if (closed) return;
        ready();
        closed = true;
        check(MpiNative.dpsgd_mpi_finalize(), "MPI_Finalize");
    }

    private void ready() {
        if (closed) throw new IllegalStateException("MPI is finalized; no more collectives on rank " + rank);
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("MPI was opened on thread " + owner.getName() + " and is called from "
                    + Thread.currentThread().getName() + " (MPI_THREAD_FUNNELED allows only the opening thread)");
        }
    }

    private void check(int code, String call) {
        if (code != 0) {
            throw new MpiException(call + " failed on rank " + rank + ": " + MpiNative.dpsgd_mpi_error_string(code)
                    + " (MPI error " + code + ")");
        }
    }
}
