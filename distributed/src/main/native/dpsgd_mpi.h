// The few MPI calls dpsgd needs, as plain C functions for JavaCPP (org.dpsgd.distributed.MpiNative).
// Every function returns an MPI error code (MPI_SUCCESS = 0) unless it says otherwise; the Java side turns
// non-zero codes into exceptions carrying dpsgd_mpi_error_string(code).
#ifndef DPSGD_MPI_H
#define DPSGD_MPI_H

// JavaCPP compiles this as C++: keep MPI's deprecated C++ bindings (and their libmpi_cxx) out.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <dlfcn.h>
#include <limits.h>
#include <mpi.h>
#include <stdint.h>

// Largest element count per MPI call (MPI counts are int); longer buffers go in chunks.
#define DPSGD_MPI_CHUNK ((int64_t) (INT_MAX / 2))

static inline int dpsgd_mpi_init(void) {
    int done = 0;
    MPI_Initialized(&done);
    if (done) return MPI_SUCCESS;
    // Open MPI dlopen()s its components, which resolve libmpi's symbols globally; the JVM loads JNI
    // libraries (and so libmpi) with RTLD_LOCAL. Re-open the already loaded libmpi with RTLD_GLOBAL first,
    // as Open MPI's own Java binding does, else MPI_Init fails with "undefined symbol" in a component.
    Dl_info info;
    if (dladdr((void*) &MPI_Init, &info) != 0 && info.dli_fname != NULL) {
        dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
    }
    int provided = 0;
    // FUNNELED: the Java side makes every MPI call from the one thread that called init.
    int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return rc;
    // Errors come back as codes (then an exception and MPI_Abort with a message), not a bare abort.
    return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

static inline int dpsgd_mpi_rank(void) {
    int r = -1;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

static inline int dpsgd_mpi_size(void) {
    int s = -1;
    MPI_Comm_size(MPI_COMM_WORLD, &s);
    return s;
}

static inline int dpsgd_mpi_allreduce_sum_float(float* data, int64_t count) {
    for (int64_t off = 0; off < count; off += DPSGD_MPI_CHUNK) {
        int n = (int) (count - off < DPSGD_MPI_CHUNK ? count - off : DPSGD_MPI_CHUNK);
        int rc = MPI_Allreduce(MPI_IN_PLACE, data + off, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return rc;
    }
    return MPI_SUCCESS;
}

static inline int dpsgd_mpi_allreduce_sum_double(double* data, int64_t count) {
    for (int64_t off = 0; off < count; off += DPSGD_MPI_CHUNK) {
        int n = (int) (count - off < DPSGD_MPI_CHUNK ? count - off : DPSGD_MPI_CHUNK);
        int rc = MPI_Allreduce(MPI_IN_PLACE, data + off, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return rc;
    }
    return MPI_SUCCESS;
}

static inline int dpsgd_mpi_broadcast_bytes(signed char* data, int64_t count, int root) {
    for (int64_t off = 0; off < count; off += DPSGD_MPI_CHUNK) {
        int n = (int) (count - off < DPSGD_MPI_CHUNK ? count - off : DPSGD_MPI_CHUNK);
        int rc = MPI_Bcast(data + off, n, MPI_BYTE, root, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return rc;
    }
    return MPI_SUCCESS;
}

static inline int dpsgd_mpi_broadcast_float(float* data, int64_t count, int root) {
    for (int64_t off = 0; off < count; off += DPSGD_MPI_CHUNK) {
        int n = (int) (count - off < DPSGD_MPI_CHUNK ? count - off : DPSGD_MPI_CHUNK);
        int rc = MPI_Bcast(data + off, n, MPI_FLOAT, root, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return rc;
    }
    return MPI_SUCCESS;
}

static inline int dpsgd_mpi_barrier(void) {
    return MPI_Barrier(MPI_COMM_WORLD);
}

// Ends every process of the job (mpirun kills the others); does not return on success.
static inline int dpsgd_mpi_abort(int code) {
    return MPI_Abort(MPI_COMM_WORLD, code);
}

static inline int dpsgd_mpi_finalize(void) {
    int done = 0;
    MPI_Finalized(&done);
    return done ? MPI_SUCCESS : MPI_Finalize();
}

// The library's version line (e.g. "Open MPI v4.1.4, ..."); a static buffer.
static inline const char* dpsgd_mpi_library_version(void) {
    static char text[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(text, &len);
    return text;
}

// The text of an MPI error code; a static buffer (callers copy it at once, from the one MPI thread).
static inline const char* dpsgd_mpi_error_string(int code) {
    static char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) return "unknown MPI error";
    return text;
}

#endif
