/**
 * Privacy accounting: what a run's steps cost in (ε, δ). A step is described as a {@link org.dpsgd.accounting.DpEvent}
 * (the Poisson-sampled Gaussian of DP-SGD); an {@link org.dpsgd.accounting.Accountant} composes events and converts
 * them to ε(δ) ({@link org.dpsgd.accounting.RdpAccountant}, Rényi DP, or {@link org.dpsgd.accounting.PldAccountant},
 * numerical privacy loss distributions); {@link org.dpsgd.accounting.Accountants} looks them up by name and
 * {@link org.dpsgd.accounting.NoiseCalibration} finds σ for a target ε. {@link org.dpsgd.accounting.PrivacyLedger} is
 * the list of events a run composed, and {@link org.dpsgd.accounting.LedgerJournal} its durable, hash-chained
 * write-ahead copy in the run folder.
 *
 * <p>Privacy rule: every ε reported is an upper bound on the true ε, never an approximation from below. The
 * discretisations are pessimistic, the calibration returns the σ whose ε is at or below the target, and a ledger
 * that may have lost events is an error, not a shorter ledger.
 */
package org.dpsgd.accounting;
