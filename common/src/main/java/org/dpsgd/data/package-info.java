/**
 * Datasets and batch assembly. {@link org.dpsgd.data.Dataset} is random access to labelled, normalised images;
 * {@link org.dpsgd.data.Datasets} opens the one a {@link org.dpsgd.config.DataConfig} names (IDX, CIFAR, image
 * folders packed into memory-mapped {@link org.dpsgd.data.ShardedDataset} files, or
 * {@link org.dpsgd.data.SyntheticDataset}). {@link org.dpsgd.data.BatchAssembler} fills a
 * {@link org.dpsgd.backend.DeviceBatch} for one device call, with {@link org.dpsgd.data.Augmenter} producing the
 * augmented copies.
 *
 * <p>Privacy rule: nothing here is computed from the private training set beyond the examples themselves:
 * normalisation constants are the datasets' published statistics, and padding slots are filled with zeros, mask 0
 * and id -1 so stale data can never reach a masked slot.
 */
package org.dpsgd.data;
