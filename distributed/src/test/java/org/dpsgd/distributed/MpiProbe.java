package org.dpsgd.distributed;

import java.util.Arrays;

/**
 * Run under mpirun by {@link MpiBindingTest}: exercises every collective of the binding with values that
 * depend on the rank and prints one line per check; exits non-zero on a wrong result. With argument
 * "fail-on-1", rank 1 throws instead, to show that {@link RankFailure} stops the whole job; with "kill-1", rank 1
 * dies of SIGKILL, to show that the launcher stops the rank left waiting.
 */
public final class MpiProbe {
    public static void main(String[] args) throws Exception {
        Communicator c = Mpi.open("MpiProbe");
        int r = c.rank();
        int w = c.size();
        try {
            if (args.length > 0 && args[0].equals("fail-on-1") && r == 1)
                throw new IllegalStateException("probe failure on purpose");
            if (args.length > 0 && args[0].equals("kill-1") && r == 1) {
                // A crash, not an exception: SIGKILL to itself, while rank 0 waits in the allreduce below.
                new ProcessBuilder(
                                "kill",
                                "-9",
                                String.valueOf(ProcessHandle.current().pid()))
                        .start()
                        .waitFor();
                Thread.sleep(60_000);
            }
            float[] f = new float[5];
            for (int i = 0; i < f.length; i++) f[i] = r + i * 0.5f;
            c.allreduceSum(f);
            float[] fExpected = new float[5];
            for (int i = 0; i < 5; i++) for (int k = 0; k < w; k++) fExpected[i] += k + i * 0.5f;
            double[] d = {r, 1.0};
            c.allreduceSum(d);
            byte[] b = r == 0 ? new byte[] {7, 8, 9} : new byte[3];
            c.broadcast(b, 0);
            float[] p = r == w - 1 ? new float[] {1.5f, -2f} : new float[2];
            c.broadcast(p, w - 1);
            byte[] big = c.broadcastFromRoot(
                    r == 0 ? "hello from rank 0".getBytes(java.nio.charset.StandardCharsets.UTF_8) : null);
            // Every rank's bytes, of a length of its own, in rank order on every rank.
            java.util.List<byte[]> all =
                    c.allgather("rank ".repeat(r + 1).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            boolean gathered = all.size() == w;
            for (int k = 0; k < all.size(); k++)
                gathered &=
                        new String(all.get(k), java.nio.charset.StandardCharsets.UTF_8).equals("rank ".repeat(k + 1));
            c.barrier();
            boolean ok = Arrays.equals(f, fExpected)
                    && d[0] == w * (w - 1) / 2.0
                    && d[1] == w
                    && Arrays.equals(b, new byte[] {7, 8, 9})
                    && Arrays.equals(p, new float[] {1.5f, -2f})
                    && new String(big, java.nio.charset.StandardCharsets.UTF_8).equals("hello from rank 0")
                    && gathered;
            System.out.println("rank " + r + " of " + w + (ok ? " ok " : " WRONG ") + c.describe());
            c.close();
            System.exit(ok ? 0 : 1);
        } catch (RuntimeException e) {
            RankFailure.abort(c, e, System.err);
        }
    }
}
