package org.dpsgd.distributed;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.javacpp.Loader;
import org.dpsgd.UserError;

/** Finds out whether this process was launched by an MPI launcher, and opens MPI when the binding is built. */
public final class Mpi {
    /** Environment variables set by mpirun/mpiexec (Open MPI, PMIx, MPICH/Hydra, MVAPICH) and hence by poprun. */
    static final List<String> LAUNCH_VARIABLES =
            List.of("OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK", "MV2_COMM_WORLD_SIZE");

    /** How to get the binding, for the one-line refusal. */
    static final String HOW_TO_BUILD =
            "install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev) and rebuild "
                    + "(DPSGD_REBUILD=1 ./dpsgd ..., or mvn -P mpi package; elsewhere -Dmpi.include=DIR -Dmpi.lib=DIR from mpicc -showme)";

    private Mpi() {}

    /** The launcher variable that shows an MPI launch, if any (e.g. OMPI_COMM_WORLD_SIZE=2). */
    public static Optional<String> launchedBy(Map<String, String> env) {
        for (String v : LAUNCH_VARIABLES) {
            String value = env.get(v);
            if (value != null && !value.isBlank()) return Optional.of(v + "=" + value);
        }
        return Optional.empty();
    }

    /** Empty when the binding loads; else why not (one line). Does not initialise MPI. */
    public static Optional<String> availability() {
        try {
            Loader.load(MpiNative.class);
            return Optional.empty();
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            return Optional.of("the MPI binding is not built into this dpsgd (" + firstLine(e) + "); " + HOW_TO_BUILD);
        }
    }

    /**
     * Initialises MPI on this thread and returns MPI_COMM_WORLD. Every later call on it must come from this
     * thread. Fails with one line when the binding is missing.
     *
     * @param reason what asked for MPI (a flag, or the launcher variable), for the error message
     */
    public static Communicator open(String reason) {
        Optional<String> missing = availability();
        if (missing.isPresent()) throw new UserError(reason + " asks for MPI, but " + missing.get());
        return new MpiCommunicator();
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
