/**
 * The backend-neutral network description. A {@link org.dpsgd.model.ModelSpec} names a model of the
 * {@link org.dpsgd.model.ModelZoo}, which expands it into a {@link org.dpsgd.model.Network}: a list of
 * {@link org.dpsgd.model.Layer}s, the per-sample input {@link org.dpsgd.model.Shape} and the parameters
 * ({@link org.dpsgd.model.ParamSpec}) whose concatenation is the flat parameter vector every backend exchanges.
 * {@link org.dpsgd.model.Initializer} gives identical initial weights on every backend; {@link org.dpsgd.model.SafeTensors}
 * reads pretrained and writes trained weights.
 *
 * <p>Privacy rule: every layer acts on one sample at a time (GroupNorm, never BatchNorm), so a per-sample gradient
 * depends on that sample only and clipping bounds its contribution.
 */
package org.dpsgd.model;
