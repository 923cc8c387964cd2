package org.dpsgd.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link PieceBuffers} hands a buffer out again only after the work that read it is done, and waits
 * for all work, failed or not, before its owner returns: checked with work that only records when
 * it is awaited (no timing).
 */
class PieceBuffersTest {
    /** Work that records the order in which pieces are awaited, failing for one piece if asked. */
    private static final class Recorded implements GaussianDraw.Pending {
        final List<Integer> log;
        final int piece;
        final boolean fails;

        Recorded(List<Integer> log, int piece, boolean fails) {
            this.log = log;
            this.piece = piece;
            this.fails = fails;
        }

        @Override
        public void await() {
            log.add(piece);
            if (fails) throw new IllegalStateException("piece " + piece + " failed");
        }
    }

    @Test
    void aBufferComesBackOnlyAfterTheWorkThatReadItIsAwaited() {
        PieceBuffers b = new PieceBuffers(8);
        List<Integer> awaited = new ArrayList<>();
        double[] first = b.next();
        b.track(new Recorded(awaited, 0, false));
        double[] second = b.next();
        assertNotSame(first, second, "two buffers");
        assertEquals(List.of(), awaited, "the second buffer is free: nothing awaited");
        b.track(new Recorded(awaited, 1, false));
        assertSame(first, b.next());
        assertEquals(List.of(0), awaited, "the first buffer back only after piece 0's work");
        b.track(new Recorded(awaited, 2, false));
        b.rotate(); // a piece read from elsewhere: still waits for the slot's work
        assertEquals(List.of(0, 1), awaited);
        b.track(new Recorded(awaited, 3, false));
        b.awaitAll();
        assertEquals(List.of(0, 1, 2, 3), awaited.stream().sorted().toList(), "all awaited, once each");
        b.awaitAll();
        assertEquals(4, awaited.size(), "work is awaited once");
    }

    @Test
    void everyPieceIsAwaitedEvenWhenOneFails() {
        PieceBuffers b = new PieceBuffers(4);
        List<Integer> awaited = new ArrayList<>();
        b.next();
        b.track(new Recorded(awaited, 0, true));
        b.next();
        b.track(new Recorded(awaited, 1, true));
        IllegalStateException e = assertThrows(IllegalStateException.class, b::awaitAll);
        assertEquals(2, awaited.size());
        assertEquals(1, e.getSuppressed().length, "the second failure is kept");

        b.next();
        b.track(new Recorded(awaited, 2, true));
        RuntimeException primary = new RuntimeException("drain failed");
        b.awaitAllAfter(primary);
        assertEquals(3, awaited.size(), "the work in flight is awaited after a failure too");
        assertEquals(1, primary.getSuppressed().length);
        assertThrows(IllegalArgumentException.class, () -> new PieceBuffers(0));
        assertThrows(IllegalArgumentException.class, () -> b.track(null));
    }
}
