package org.dpsgd.accounting;

/**
 * Where a run's privacy events are recorded before anything computed from them can leave the
 * process: the write-ahead half of the privacy ledger. {@link #record} returns only once the event
 * is durable, so a crash at any later moment cannot un-charge it.
 */
public interface LedgerSink {
    /** Nothing durable: for library use without a run folder (the in-memory accountant still counts). */
    LedgerSink IN_MEMORY = event -> {};

    /** Records {@code event}; returns once it is durable (or throws, and the caller must not release anything). */
    void record(DpEvent event);
}
