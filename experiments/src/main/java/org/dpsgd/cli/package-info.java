/**
 * The {@code dpsgd} command line (picocli). {@link org.dpsgd.cli.Main} is the entry point; its subcommands train a
 * config ({@code train}, {@code demo}), run grids ({@code sweep}), compare run folders ({@code compare}), compute
 * ε and σ ({@code privacy epsilon|calibrate|bench}), time clipping strategies ({@code bench}), list backends
 * ({@code backends}) and plan IPU layouts ({@code ipu plan}).
 *
 * <p>Bad input is reported as one {@code error: ...} line naming the problem and the fix, with exit code 2.
 */
package org.dpsgd.cli;
