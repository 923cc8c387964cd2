/**
 * Types shared by every package of dpsgd and depending on none of them: {@link org.dpsgd.UserError}, the failure a user
 * can fix (the CLI's exit 2), as opposed to a bug; and {@link org.dpsgd.ConfigChoice}, the contract of the modes a
 * config names (privacy.noise, audit.kind, ...), which are enums.
 */
package org.dpsgd;
