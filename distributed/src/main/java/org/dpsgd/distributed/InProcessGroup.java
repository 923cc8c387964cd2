package org.dpsgd.distributed;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;

/**
 * W ranks as threads of one JVM, with the collectives of {@link Communicator}: what the tests use to run a
 * data-parallel step loop without MPI. Sums are taken in rank order 0..W-1 on every rank, so every rank
 * gets bit-identical results (as MPI implementations do for a fixed W). {@link #abort} on one rank makes
 * every rank's next (or current) collective throw {@link Aborted}.
 */
public final class InProcessGroup {
    private final int size;
    private final CyclicBarrier barrier;
    private final Object[] slots;
    private final java.util.concurrent.atomic.AtomicReference<String> aborted =
            new java.util.concurrent.atomic.AtomicReference<>();

    public InProcessGroup(int size) {
        if (size <= 0) throw new IllegalArgumentException("a group needs at least one rank, got " + size);
        this.size = size;
        this.barrier = new CyclicBarrier(size);
        this.slots = new Object[size];
    }

    /** The communicator of each rank, to be used from one thread each. */
    public List<Communicator> ranks() {
        List<Communicator> out = new ArrayList<>();
        for (int r = 0; r < size; r++) out.add(new Rank(r));
        return out;
    }

    /** Thrown by collectives after some rank aborted. */
    public static final class Aborted extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        Aborted(String message) {
            super(message);
        }
    }

    private void await() {
        if (aborted.get() != null) throw new Aborted(aborted.get());
        try {
            barrier.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Aborted("interrupted in a collective");
        } catch (BrokenBarrierException e) {
            throw new Aborted(aborted.get() != null ? aborted.get() : "another rank left a collective");
        }
    }

    private final class Rank implements Communicator {
        private final int rank;

        Rank(int rank) {
            this.rank = rank;
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
            return "in-process group of " + size + " threads";
        }

        @Override
        public void allreduceSum(float[] data) {
            slots[rank] = data;
            await();
            float[] sum = new float[data.length];
            for (int r = 0; r < size; r++) {
                float[] other = (float[]) slots[r];
                if (other.length != data.length)
                    throw new IllegalStateException("allreduce of " + data.length + " floats on rank " + rank + " but "
                            + other.length + " on rank " + r);
                for (int i = 0; i < sum.length; i++) sum[i] += other[i];
            }
            await(); // everyone has read every slot before anyone overwrites its own
            System.arraycopy(sum, 0, data, 0, sum.length);
        }

        @Override
        public void allreduceSum(double[] data) {
            slots[rank] = data;
            await();
            double[] sum = new double[data.length];
            for (int r = 0; r < size; r++) {
                double[] other = (double[]) slots[r];
                if (other.length != data.length)
                    throw new IllegalStateException("allreduce of " + data.length + " doubles on rank " + rank + " but "
                            + other.length + " on rank " + r);
                for (int i = 0; i < sum.length; i++) sum[i] += other[i];
            }
            await();
            System.arraycopy(sum, 0, data, 0, sum.length);
        }

        @Override
        public void broadcast(byte[] data, int root) {
            slots[rank] = data;
            await();
            byte[] src = (byte[]) slots[root];
            if (src.length != data.length)
                throw new IllegalStateException("broadcast of " + src.length + " bytes from rank " + root + " into "
                        + data.length + " on rank " + rank);
            if (rank != root) System.arraycopy(src, 0, data, 0, data.length);
            await();
        }

        @Override
        public void broadcast(float[] data, int root) {
            slots[rank] = data;
            await();
            float[] src = (float[]) slots[root];
            if (src.length != data.length)
                throw new IllegalStateException("broadcast of " + src.length + " floats from rank " + root + " into "
                        + data.length + " on rank " + rank);
            if (rank != root) System.arraycopy(src, 0, data, 0, data.length);
            await();
        }

        @Override
        public void barrier() {
            await();
        }

        @Override
        public void abort(int code) {
            // The first abort names the run's cause; ranks that abort because of it do not overwrite it.
            aborted.compareAndSet(null, "rank " + rank + " aborted the run (exit code " + code + ")");
            barrier.reset();
            throw new Aborted(aborted.get());
        }

        @Override
        public void close() {}
    }
}
