package org.dpsgd.distributed;

import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of src/main/native/dpsgd_mpi.h, the few MPI calls a data-parallel run needs. The JNI
 * glue is generated and compiled only in the Maven profile {@code mpi} (active where mpi.h is present);
 * without it this class still compiles and loading it fails, which {@link Mpi#availability()} reports.
 * Call only through {@link MpiCommunicator}, from one thread. Returns are MPI error codes (0 = success).
 */
@Platform(include = "dpsgd_mpi.h", link = "mpi")
final class MpiNative {
    private MpiNative() {}

    static native int dpsgd_mpi_init();

    static native int dpsgd_mpi_rank();

    static native int dpsgd_mpi_size();

    // @CriticalRegion pins the array instead of copying it (HotSpot copies for Get<T>ArrayElements): the
    // gradient is up to 100 MB per step. The GC waits while a collective runs, which is what we want anyway.
    @CriticalRegion
    static native int dpsgd_mpi_allreduce_sum_float(float[] data, @Cast("int64_t") long count);

    @CriticalRegion
    static native int dpsgd_mpi_allreduce_sum_double(double[] data, @Cast("int64_t") long count);

    @CriticalRegion
    static native int dpsgd_mpi_broadcast_bytes(
            @Cast("signed char*") byte[] data, @Cast("int64_t") long count, int root);

    @CriticalRegion
    static native int dpsgd_mpi_broadcast_float(float[] data, @Cast("int64_t") long count, int root);

    static native int dpsgd_mpi_barrier();

    static native int dpsgd_mpi_abort(int code);

    static native int dpsgd_mpi_finalize();

    static native @Cast("const char*") String dpsgd_mpi_library_version();

    static native @Cast("const char*") String dpsgd_mpi_error_string(int code);
}
