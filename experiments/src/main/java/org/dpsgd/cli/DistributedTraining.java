package org.dpsgd.cli;

import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.dpsgd.distributed.Communicator;
import org.dpsgd.distributed.DataParallel;
import org.dpsgd.distributed.Mpi;
import org.dpsgd.distributed.RankFailure;
import org.dpsgd.run.FollowerRun;
import org.dpsgd.run.TrainingRun;

/**
 * How `dpsgd train` runs under MPI: whether to (from --distributed and the launcher's environment), and
 * the rank's life: open MPI, rank 0 runs the {@link TrainingRun}, the others a {@link FollowerRun}, then
 * MPI_Finalize; any failure prints one line naming the rank and the cause and aborts every rank.
 */
final class DistributedTraining {
    private DistributedTraining() {}

    /**
     * Why this process should join an MPI run ("--distributed mpi", or the launcher variable), or empty
     * for a single process. Refuses --distributed none inside a multi-process launch (every process
     * would train alone and write the same run folder).
     */
    static Optional<String> reason(String flag, Map<String, String> env) {
        String mode = flag == null ? "auto" : flag;
        Optional<String> launch = Mpi.launchedBy(env);
        return switch (mode) {
            case "mpi" -> Optional.of("--distributed mpi");
            case "none" -> {
                if (launch.isPresent() && worldSize(env) > 1) {
                    throw new IllegalArgumentException(
                            "--distributed none, but this process was launched by MPI (" + launch.get()
                                    + "): every rank would train alone into the same run folder; drop --distributed none or launch one process");
                }
                yield Optional.empty();
            }
            case "auto" -> launch.map(v -> "an MPI launch (" + v + ")");
            default ->
                throw new IllegalArgumentException("--distributed must be auto, none or mpi, got '" + flag + "'");
        };
    }

    /**
     * {@code gpu:local} becomes {@code gpu:<local rank>} (the rank's index on its host, from the launcher:
     * OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID or PMI_LOCAL_RANK), so one command line gives every rank
     * of a multi-GPU host its own GPU. Other values pass through.
     */
    static String device(String device, Map<String, String> env) {
        if (device == null || !device.equals("gpu:local")) return device;
        for (String v : new String[] {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "PMI_LOCAL_RANK"}) {
            String value = env.get(v);
            if (value != null && value.trim().matches("\\d+")) return "gpu:" + value.trim();
        }
        throw new IllegalArgumentException(
                "--device gpu:local needs an MPI launch that sets the local rank (OMPI_COMM_WORLD_LOCAL_RANK, "
                        + "MPI_LOCALRANKID or PMI_LOCAL_RANK); give --device gpu:N instead");
    }

    private static int worldSize(Map<String, String> env) {
        for (String v : new String[] {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE"}) {
            try {
                if (env.get(v) != null) return Integer.parseInt(env.get(v).trim());
            } catch (NumberFormatException e) {
                return 2; // unreadable: assume several
            }
        }
        return 2; // PMIx launches without a size variable: assume several
    }

    /** Runs this rank; the result on rank 0, null on the others. Exits the process (all ranks) on failure. */
    static TrainingRun.Result run(
            String reason,
            int checkEvery,
            TrainingRun.Options opts,
            Function<TrainingRun.Options, TrainingRun.Result> leader) {
        Communicator comm = Mpi.open(reason); // one line and exit 2 when the binding is missing
        TrainingRun.Result result = null;
        try {
            DataParallel parallel = new DataParallel(comm, checkEvery);
            if (parallel.isLeader()) {
                opts.progress().line("data-parallel run: " + comm.size() + " rank(s) over " + comm.describe());
                result = leader.apply(opts.withParallel(parallel));
            } else {
                FollowerRun.run(parallel, opts.withParallel(parallel));
            }
            comm.close();
            return result;
        } catch (RuntimeException e) {
            RankFailure.abort(comm, e, opts.err());
            throw e; // not reached with MPI (abort ends the process)
        }
    }
}
