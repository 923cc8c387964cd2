/**
 * Types shared by every package of dpsgd and depending on none of them: {@link org.dpsgd.UserError}, the failure a user
 * can fix (the CLI's exit 2), as opposed to a bug.
 */
package org.dpsgd;
