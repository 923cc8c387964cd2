package org.dpsgd.data;

/** Which part of a dataset: the training examples (private) or the held-out test examples. */
public enum Split {
    TRAIN,
    TEST
}
