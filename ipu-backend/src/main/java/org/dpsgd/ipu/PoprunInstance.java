package org.dpsgd.ipu;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * This process's place in a {@code poprun} launch: which of the run's instances it is and how many
 * replicas it drives, from the {@code POPDIST_*} variables poprun exports to every instance (PopRun and
 * PopDist user guide; the instance count and index are total/local replicas and offset/local, as
 * Graphcore's own examples derive them). One instance, or no poprun, is the plain single-graph case.
 *
 * <p>Several instances make one replicated graph over all instances' replicas, so the device's
 * all-reduce already sums the whole run's clipped gradients ({@link org.dpsgd.backend.GradientScope#RUN});
 * the MPI ranks poprun starts are the data-parallel ranks (rank = instance index).
 *
 * @param instances poprun instances (host processes) of the run
 * @param index this instance, 0-based
 * @param localReplicas replicas this instance drives (each on one IPU)
 */
record PoprunInstance(int instances, int index, int localReplicas) {
    static final String TOTAL = "POPDIST_NUM_TOTAL_REPLICAS";
    static final String LOCAL = "POPDIST_NUM_LOCAL_REPLICAS";
    static final String OFFSET = "POPDIST_REPLICA_INDEX_OFFSET";
    static final String IPUS_PER_REPLICA = "POPDIST_NUM_IPUS_PER_REPLICA";
    static final String UNIFORM = "POPDIST_UNIFORM_REPLICAS_PER_INSTANCE";

    PoprunInstance {
        if (instances < 1 || index < 0 || index >= instances || localReplicas < 1)
            throw new IllegalArgumentException(
                    "poprun instance " + index + " of " + instances + " with " + localReplicas + " replicas");
    }

    /** Replicas of the whole run (the compiled graph's replication factor). */
    int globalReplicas() {
        return instances * localReplicas;
    }

    /** The first global replica this instance runs. */
    int replicaOffset() {
        return index * localReplicas;
    }

    /**
     * The instance {@code env} describes; empty without poprun's variables. Refuses, one line each, a
     * partial or inconsistent set, replicas of more than one IPU (the graph puts one replica on one IPU),
     * uneven instances, and an MPI launch whose size or rank disagrees with poprun's instances (GCL
     * would wait for instances that do not exist, or rank 0 would not be instance 0).
     */
    static Optional<PoprunInstance> fromEnvironment(Map<String, String> env) {
        List<String> keys = List.of(TOTAL, LOCAL, OFFSET);
        long present = keys.stream().filter(env::containsKey).count();
        if (present == 0) return Optional.empty();
        if (present < keys.size())
            throw new IllegalArgumentException("poprun's environment is incomplete: " + TOTAL + ", " + LOCAL + " and "
                    + OFFSET + " must all be set (launch with poprun, or unset them)");
        int total = positive(env, TOTAL), local = positive(env, LOCAL);
        int offset = nonNegative(env, OFFSET);
        if (env.containsKey(IPUS_PER_REPLICA) && positive(env, IPUS_PER_REPLICA) != 1)
            throw new IllegalArgumentException("poprun --ipus-per-replica " + env.get(IPUS_PER_REPLICA)
                    + ": the dpsgd IPU graph puts each replica on one IPU; use --ipus-per-replica 1");
        if (env.containsKey(UNIFORM) && !env.get(UNIFORM).trim().equals("1"))
            throw new IllegalArgumentException("poprun gives instances different replica counts (" + UNIFORM + "="
                    + env.get(UNIFORM) + "); use --num-replicas divisible by --num-instances");
        if (total % local != 0 || offset % local != 0 || offset >= total)
            throw new IllegalArgumentException("poprun's replicas do not split evenly: " + TOTAL + "=" + total + ", "
                    + LOCAL + "=" + local + ", " + OFFSET + "=" + offset);
        PoprunInstance p = new PoprunInstance(total / local, offset / local, local);
        checkMpi(env, "OMPI_COMM_WORLD_SIZE", p.instances(), "size");
        checkMpi(env, "OMPI_COMM_WORLD_RANK", p.index(), "rank");
        return Optional.of(p);
    }

    private static void checkMpi(Map<String, String> env, String key, int expected, String what) {
        String v = env.get(key);
        if (v != null && !v.trim().equals(Integer.toString(expected)))
            throw new IllegalArgumentException("the MPI " + what + " (" + key + "=" + v + ") is not poprun's instance "
                    + (what.equals("size") ? "count " : "index ") + expected
                    + "; launch dpsgd with poprun alone, one MPI rank per instance");
    }

    private static int positive(Map<String, String> env, String key) {
        int v = nonNegative(env, key);
        if (v == 0) throw new IllegalArgumentException(key + " must be > 0, got 0");
        return v;
    }

    private static int nonNegative(Map<String, String> env, String key) {
        String v = env.get(key).trim();
        try {
            int i = Integer.parseInt(v);
            if (i >= 0) return i;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(key + " must be a non-negative integer, got '" + v + "'");
    }
}
